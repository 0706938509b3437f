type Json = unknown;
type Obj = Record<string, Json>;

const isObject = (v: Json): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The merge key of the built-in lists kubectl and Tartan patch (from the Kubernetes types'
 * `patchMergeKey` tags). Lists not named here are replaced whole, as in a merge patch.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  ephemeralContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  volumeDevices: "devicePath",
  ports: "containerPort",
  conditions: "type",
  imagePullSecrets: "name",
  hostAliases: "ip",
  topologySpreadConstraints: "topologyKey",
  addresses: "type",
  taints: "key",
  podIPs: "ip",
  ownerReferences: "uid",
};

/** Primitive lists with `patchStrategy:merge` (items are added, not the list replaced). */
const MERGED_PRIMITIVE_LISTS = new Set(["finalizers"]);

function mergeList(field: string, target: Json, patch: Json[]): Json[] {
  const current = Array.isArray(target) ? target : [];
  const key = MERGE_KEYS[field];
  if (MERGED_PRIMITIVE_LISTS.has(field)) {
    return [...current, ...patch.filter((p) => !current.includes(p))];
  }
  if (!key || !patch.every(isObject)) {
    return patch.filter((p) => !(isObject(p) && p.$patch === "delete"));
  }
  if (patch.some((p) => (p as Obj).$patch === "replace")) {
    return patch.filter((p) => (p as Obj).$patch !== "replace");
  }
  const out = current.map((c) => structuredClone(c));
  for (const p of patch as Obj[]) {
    const i = out.findIndex((c) => isObject(c) && c[key] === p[key]);
    if (p.$patch === "delete") {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = strategicMergePatch(out[i], p);
    else out.push(strategicMergePatch({}, p));
  }
  return out;
}

/**
 * A subset of Kubernetes' strategic merge patch, for built-in kinds: maps merge recursively and
 * `null` removes a field (as in a merge patch); the lists of MERGE_KEYS merge item by item on
 * their key (`$patch: delete` removes an item, `$patch: replace` replaces the list); every other
 * list is replaced; `$patch: replace|delete` on a map; kubectl's `$setElementOrder/…`,
 * `$retainKeys` and `$deleteFromPrimitiveList/…` directives are accepted and ignored
 * (so element order is not enforced). Documented in src/lab/kube-apiserver/README.md.
 */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === "replace") {
    const { $patch: _, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch.$patch === "delete") return undefined;
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith("$")) continue;
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, out[k], v);
    else if (isObject(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  return out;
}
