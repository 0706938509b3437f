import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Datastore } from "../datastore/datastore.ts";
import { openDatastore } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { K8sObject } from "../model/parse-k8s-object.ts";
import { applyObjects } from "./apply-objects.ts";
import { type DatastoreTarget, datastoreTarget } from "./datastore-target.ts";
import { deleteObjects } from "./delete-objects.ts";
import { formatChangeLines, formatGetTable } from "./format-objects.ts";
import { getObjects } from "./get-objects.ts";
import { labelObject, parseLabelChange } from "./label-object.ts";
import { type ManifestSource, parseManifests } from "./parse-manifests.ts";
import { type OutputFormat, report } from "./report.ts";
import { resourceKind } from "./resource-kind.ts";
import { selfArgv } from "./self-argv.ts";

export const OBJECT_COMMANDS = ["apply", "delete", "get", "label"] as const;

export const OBJECTS_HELP = `  tartan apply -f FILE|DIR|- [-n NS]         create or update Pods, Namespaces, NetworkPolicies
                                             (the YAML you give kubectl; all documents are
                                             validated before anything is written)
  tartan delete -f FILE|DIR|- [--ignore-not-found]
  tartan get pods|namespaces|networkpolicies [NAME] [-n NS | -A] [-o table|json|yaml]
  tartan label pod|namespace|networkpolicy NAME k=v... k-... [-n NS]
      These act on the lab that is up (or --lab NAME), or on --datastore etcd=URL|local=PATH,
      or on the datastore of an agent config (--config FILE).
`;

export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
  stdin(): Promise<string>;
}

const processIo: CommandIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  stdin: () => Bun.stdin.text(),
};

const usage = (msg: string) => new TartanError("cli-usage", msg, "see tartan --help");

/**
 * `tartan apply|delete|get|label`: kubectl's verbs over the datastore's Pods, Namespaces and
 * NetworkPolicies. Input is read and validated here, before any datastore is contacted. A lab's
 * etcd listens inside the lab's fabric namespace, so for a lab this re-runs itself in there
 * (`nsenter --net`), with the validated objects on stdin and `--datastore etcd=…`, and relays
 * the output: the root namespace never needs a route into the lab. Returns the exit code.
 */
export async function objectsCommand(args: string[], io: CommandIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseCommandArgs>;
  try {
    parsed = parseCommandArgs(args);
  } catch (e) {
    if (e instanceof TartanError) throw e;
    throw usage((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  const [cmd, ...pos] = positionals as [(typeof OBJECT_COMMANDS)[number], ...string[]];
  if (!OBJECT_COMMANDS.includes(cmd)) throw usage(`unknown command "${cmd}"`);
  const format = outputFormat(v.output);
  let objects: K8sObject[] = [];
  if (cmd === "apply" || cmd === "delete") {
    if (!v.file?.length)
      throw usage(`tartan ${cmd} needs -f FILE (a YAML/JSON file, a directory, or - for stdin)`);
    if (pos.length > 0) throw usage(`unexpected argument "${pos[0]}"`);
    objects = parseManifests(await readSources(v.file, io), v.namespace);
  } else if (cmd === "get") {
    if (pos.length < 1 || pos.length > 2) throw usage("usage: tartan get KIND [NAME] [-n NS | -A]");
    if (pos[1] !== undefined && v["all-namespaces"])
      throw usage("a NAME cannot be looked up across all namespaces (-A)");
  } else if (pos.length < 3) {
    throw usage("usage: tartan label KIND NAME k=v... k-...");
  }
  // Usage errors come out before any datastore is contacted.
  if (cmd === "get" || cmd === "label") resourceKind(pos[0]!);
  if (cmd === "label") pos.slice(2).forEach(parseLabelChange);

  const target = datastoreTarget({ datastore: v.datastore, config: v.config, lab: v.lab });
  if (target.type === "lab") {
    const withInput = cmd === "apply" || cmd === "delete";
    // The inner run gets the validated objects on stdin (namespaces already filled in: no -n).
    const inner = withInput ? [cmd, "-f", "-"] : [cmd, ...pos];
    if (!withInput && v.namespace !== undefined) inner.push("-n", v.namespace);
    if (v["all-namespaces"]) inner.push("-A");
    if (v["ignore-not-found"]) inner.push("--ignore-not-found");
    inner.push("-o", format);
    return await inLab(target, inner, withInput ? listOf(objects) : undefined, io);
  }

  const ds = await openDatastore(target.config);
  try {
    return await runOn(ds, cmd, pos, objects, v, format, io);
  } finally {
    await ds.close();
  }
}

function parseCommandArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      file: { type: "string", short: "f", multiple: true },
      namespace: { type: "string", short: "n" },
      "all-namespaces": { type: "boolean", short: "A" },
      output: { type: "string", short: "o" },
      "ignore-not-found": { type: "boolean" },
      lab: { type: "string" },
      datastore: { type: "string" },
      config: { type: "string" },
    },
  });
}

type Values = ReturnType<typeof parseCommandArgs>["values"];

async function runOn(
  ds: Datastore,
  cmd: (typeof OBJECT_COMMANDS)[number],
  pos: string[],
  objects: K8sObject[],
  v: Values,
  format: OutputFormat,
  io: CommandIo,
): Promise<number> {
  if (cmd === "apply") {
    const results = await applyObjects(ds, objects);
    io.out(report(results, format, formatChangeLines));
    return 0;
  }
  if (cmd === "delete") {
    const results = await deleteObjects(ds, objects);
    io.out(report(results, format, formatChangeLines));
    const missing = results.filter((r) => r.action === "not found");
    if (missing.length === 0 || v["ignore-not-found"]) return 0;
    for (const r of missing)
      io.err(
        `tartan: ${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name} not found (--ignore-not-found to accept)\n`,
      );
    return 1;
  }
  const kind = resourceKind(pos[0]!);
  if (cmd === "get") {
    const r = await getObjects(ds, {
      kind,
      name: pos[1],
      namespace: v.namespace,
      allNamespaces: v["all-namespaces"],
    });
    const data = r.single ? r.items[0] : { apiVersion: "v1", kind: "List", items: r.items };
    io.out(report(data, format, () => formatGetTable(r)));
    return 0;
  }
  const r = await labelObject(ds, kind, pos[1]!, v.namespace, pos.slice(2).map(parseLabelChange));
  io.out(
    report(
      r.object,
      format,
      () => `${kind.prefix}/${pos[1]} ${r.changed ? "labeled" : "not labeled (no change)"}\n`,
    ),
  );
  return 0;
}

async function readSources(files: string[], io: CommandIo): Promise<ManifestSource[]> {
  const out: ManifestSource[] = [];
  for (const f of files) {
    if (f === "-") {
      out.push({ name: "stdin", text: await io.stdin() });
      continue;
    }
    try {
      if (statSync(f).isDirectory()) {
        // kubectl's -f DIR: the manifests in it, in name order.
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

function outputFormat(f: string | undefined): OutputFormat {
  const v = f ?? "table";
  if (v !== "table" && v !== "json" && v !== "yaml") {
    throw new TartanError("cli-usage", `unknown output format "${v}"`, "use -o table, json or yaml");
  }
  return v;
}

const listOf = (items: K8sObject[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });

async function inLab(
  target: Extract<DatastoreTarget, { type: "lab" }>,
  args: string[],
  stdin: string | undefined,
  io: CommandIo,
): Promise<number> {
  if (process.getuid?.() !== 0) {
    throw new TartanError(
      "lab-needs-root",
      `lab "${target.lab}" keeps its etcd inside its network namespace ${target.netns}: reaching it needs root`,
      "run this command as root (sudo), like the lab commands",
    );
  }
  const r = await run([...selfArgv(), ...args, "--datastore", `etcd=${target.endpoint}`], {
    netns: `/run/netns/${target.netns}`,
    stdin: stdin ?? "",
    allowFailure: true,
    timeoutMs: 60_000,
  });
  io.out(r.stdout);
  io.err(r.stderr);
  return r.code;
}
