import { ApiError } from "./api-error.ts";

type Json = unknown;
interface Op {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/"))
    throw new ApiError("BadRequest", `json patch: path "${path}" does not start with /`);
  return path
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function parentOf(
  doc: Json,
  parts: string[],
  path: string,
): { parent: Record<string, Json> | Json[]; key: string } {
  let cur = doc;
  for (const p of parts.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : (cur as Record<string, Json> | null)?.[p];
    if (typeof cur !== "object" || cur === null) {
      throw new ApiError("Invalid", `json patch: path "${path}" does not exist`);
    }
  }
  return { parent: cur as Record<string, Json> | Json[], key: parts[parts.length - 1]! };
}

function get(doc: Json, path: string): Json {
  let cur = doc;
  for (const p of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(p)] : (cur as Record<string, Json> | null)?.[p];
    if (cur === undefined) throw new ApiError("Invalid", `json patch: path "${path}" does not exist`);
  }
  return cur;
}

function remove(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!(i >= 0 && i < parent.length)) throw new ApiError("Invalid", `json patch: no element at "${path}"`);
    return parent.splice(i, 1)[0];
  }
  if (!(key in parent)) throw new ApiError("Invalid", `json patch: path "${path}" does not exist`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function add(doc: Json, path: string, value: Json, replace: boolean): Json {
  const parts = pointer(path);
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(doc, parts, path);
  if (Array.isArray(parent)) {
    const i = key === "-" ? parent.length : Number(key);
    if (!(i >= 0 && i <= parent.length))
      throw new ApiError("Invalid", `json patch: index out of range at "${path}"`);
    if (replace) parent[i] = value;
    else parent.splice(i, 0, value);
  } else {
    if (replace && !(key in parent))
      throw new ApiError("Invalid", `json patch: path "${path}" does not exist`);
    parent[key] = value;
  }
  return doc;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test); a failed `test` is 422. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops))
    throw new ApiError("BadRequest", "json patch: the body must be an array of operations");
  let doc = structuredClone(target);
  for (const o of ops as Op[]) {
    switch (o.op) {
      case "add":
        doc = add(doc, o.path, structuredClone(o.value), false);
        break;
      case "replace":
        doc = add(doc, o.path, structuredClone(o.value), true);
        break;
      case "remove":
        remove(doc, o.path);
        break;
      case "move":
        doc = add(doc, o.path, remove(doc, o.from ?? ""), false);
        break;
      case "copy":
        doc = add(doc, o.path, structuredClone(get(doc, o.from ?? "")), false);
        break;
      case "test":
        if (JSON.stringify(get(doc, o.path)) !== JSON.stringify(o.value)) {
          throw new ApiError("Invalid", `json patch: test of "${o.path}" failed`);
        }
        break;
      default:
        throw new ApiError("BadRequest", `json patch: unknown operation "${o.op}"`);
    }
  }
  return doc;
}
