import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TartanError } from "../../errors/tartan-error.ts";
import type { K8sObject } from "../../model/parse-k8s-object.ts";
import type { CommandIo, OptionSpec } from "../command.ts";
import type { ManifestSource } from "../parse-manifests.ts";

export const FILE_OPTION: OptionSpec = {
  name: "file",
  short: "f",
  value: "FILE|DIR|-",
  description: "a YAML/JSON file, a directory of them, or - for stdin",
  multiple: true,
  required: true,
  complete: "file",
};

/** The -f sources: files, kubectl's -f DIR (its manifests in name order), or - for stdin. */
export async function readManifestSources(files: string[], io: CommandIo): Promise<ManifestSource[]> {
  const out: ManifestSource[] = [];
  for (const f of files) {
    if (f === "-") {
      out.push({ name: "stdin", text: await io.stdin() });
      continue;
    }
    try {
      if (statSync(f).isDirectory()) {
        for (const n of readdirSync(f)
          .filter((x) => /\.(ya?ml|json)$/.test(x))
          .sort()) {
          out.push({ name: join(f, n), text: readFileSync(join(f, n), "utf8") });
        }
      } else {
        out.push({ name: f, text: readFileSync(f, "utf8") });
      }
    } catch (e) {
      throw new TartanError(
        "cli-usage",
        `cannot read ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
  }
  return out;
}

/** The validated objects as one List: what the inner run in a lab reads on stdin. */
export const listOf = (items: K8sObject[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });
