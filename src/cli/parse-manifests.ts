import { parseAllDocuments } from "yaml";
import { TartanError } from "../errors/tartan-error.ts";
import { InvalidObjectError } from "../model/invalid-object-error.ts";
import { type K8sObject, parseK8sObject } from "../model/parse-k8s-object.ts";

export interface ManifestSource {
  /** The file name as the user gave it ("-" for stdin): errors name it. */
  name: string;
  text: string;
}

/**
 * Every document of every source (multi-document YAML or JSON, `kind: List` flattened), each
 * validated and defaulted by parseK8sObject. All problems of all documents come out in one
 * TartanError "object-invalid", and nothing is returned then: the caller writes only when every
 * document is valid, so an apply is never half done because document 3 had a typo.
 * `namespace` is kubectl's `-n`: the namespace of objects that name none, and a conflict with
 * objects that name another one.
 */
export function parseManifests(sources: readonly ManifestSource[], namespace?: string): K8sObject[] {
  const out: K8sObject[] = [];
  const where = new Map<string, string>();
  const problems: string[] = [];
  for (const src of sources) {
    const docs = parseAllDocuments(src.text);
    if (!Array.isArray(docs)) {
      // An empty stream parses to a single "EmptyStream" marker: nothing in this source.
      continue;
    }
    docs.forEach((doc, i) => {
      const at = `${src.name}: document ${i + 1}`;
      if (doc.errors.length > 0) {
        problems.push(`${at}: not valid YAML: ${doc.errors[0]?.message.split("\n")[0]}`);
        return;
      }
      const raw: unknown = doc.toJS();
      if (raw === null || raw === undefined) return; // `---` with nothing after it
      const items = isList(raw) ? raw.items : [raw];
      items.forEach((item, j) => {
        const label = isList(raw) ? `${at}, items[${j}]` : at;
        try {
          const obj = parseK8sObject(item, { defaultNamespace: namespace });
          const ns = obj.metadata.namespace;
          if (namespace !== undefined && ns !== undefined && ns !== namespace) {
            problems.push(
              `${label} (${obj.kind} ${ns}/${obj.metadata.name}): metadata.namespace "${ns}" does not match -n ${namespace}`,
            );
            return;
          }
          const key = `${obj.kind} ${ns ? `${ns}/` : ""}${obj.metadata.name}`;
          const first = where.get(key);
          if (first) {
            problems.push(`${label} (${key}): the same object as ${first}`);
            return;
          }
          where.set(key, label);
          out.push(obj);
        } catch (e) {
          if (!(e instanceof InvalidObjectError)) throw e;
          problems.push(
            `${label}${e.object ? ` (${e.object})` : ""}: ${e.errors.map((x) => `${x.field}: ${x.reason}`).join("; ")}`,
          );
        }
      });
    });
  }
  if (problems.length > 0) {
    throw new TartanError(
      "object-invalid",
      problems.join("\n"),
      "nothing was written: fix the document(s) and run the command again",
    );
  }
  return out;
}

function isList(raw: unknown): raw is { items: unknown[] } {
  const o = raw as { kind?: unknown; items?: unknown };
  return typeof o === "object" && o !== null && o.kind === "List" && Array.isArray(o.items);
}
