import { readdirSync, readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import type { DatastoreConfig } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";

/** Where `tartan apply|get|delete|label` read and write objects. */
export type DatastoreTarget =
  | { type: "direct"; config: DatastoreConfig; source: string }
  /** A lab's etcd: it listens inside the lab's fabric namespace, reachable only from in there. */
  | { type: "lab"; lab: string; netns: string; endpoint: string };

export interface TargetOptions {
  datastore?: string;
  config?: string;
  lab?: string;
}

// The lab's state directory (src/lab/lab-paths.ts owns the layout; the CLI layer sits below the
// lab and cannot import it, so it reads the one file it needs, the way kubectl reads a kubeconfig).
export const LAB_ROOT_DEFAULT = "/run/tartan-lab";

/** The fields of /run/tartan-lab/<lab>/lab.json this reads (a subset of the lab's LabState). */
export interface LabDatastoreFields {
  name: string;
  fabric: { netns: string };
  etcd?: { endpoint: string };
}

const NO_DATASTORE_HINT =
  "start a lab (tartan lab up), or name a datastore: --datastore etcd=http://HOST:2379, " +
  "--datastore local=/var/lib/tartan/datastore.db, or --config /path/to/agent.yaml";

/**
 * Picks the datastore like kubectl picks its context: --datastore or --config when given, else
 * the lab named by --lab, else the one lab that is up. Several labs up and no --lab is an error
 * (acting on the wrong cluster would be worse than asking).
 */
export function datastoreTarget(
  o: TargetOptions,
  labRoot = process.env.TARTAN_LAB_ROOT || LAB_ROOT_DEFAULT,
): DatastoreTarget {
  const given = [o.datastore && "--datastore", o.config && "--config", o.lab && "--lab"].filter(Boolean);
  if (given.length > 1)
    throw new TartanError("cli-usage", `${given.join(" and ")} cannot be combined`, "pick one");
  if (o.datastore)
    return { type: "direct", config: parseDatastoreOption(o.datastore), source: "--datastore" };
  if (o.config) {
    let text: string;
    try {
      text = readFileSync(o.config, "utf8");
    } catch (e) {
      throw new TartanError("cli-usage", `cannot read ${o.config}: ${(e as Error).message}`);
    }
    return { type: "direct", config: parseAgentConfig(text, o.config).datastore, source: o.config };
  }
  if (o.lab) {
    const lab = readLab(labRoot, o.lab);
    if (!lab)
      throw new TartanError(
        "lab-not-up",
        `lab "${o.lab}" is not up`,
        `start it: tartan lab up --name ${o.lab}`,
      );
    return labTarget(lab);
  }
  let names: string[] = [];
  try {
    names = readdirSync(labRoot).sort();
  } catch {}
  const labs = names.map((n) => readLab(labRoot, n)).filter((l): l is LabDatastoreFields => l !== undefined);
  if (labs.length === 1) return labTarget(labs[0]!);
  if (labs.length > 1) {
    throw new TartanError(
      "cli-usage",
      `${labs.length} labs are up (${labs.map((l) => l.name).join(", ")}): which one?`,
      "pick one with --lab NAME",
    );
  }
  throw new TartanError(
    "no-datastore",
    "no datastore: no lab is up, and no --datastore or --config was given",
    NO_DATASTORE_HINT,
  );
}

/** `etcd=http://h:2379[,http://h2:2379]` or `local=/path/to/db`. */
export function parseDatastoreOption(text: string): DatastoreConfig {
  const eq = text.indexOf("=");
  const type = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (eq > 0 && value !== "") {
    if (type === "etcd") return { type: "etcd", endpoints: value.split(",").filter(Boolean) };
    if (type === "local") return { type: "local", path: value };
  }
  throw new TartanError(
    "cli-usage",
    `--datastore "${text}" is not etcd=URL[,URL] or local=PATH`,
    NO_DATASTORE_HINT,
  );
}

function readLab(root: string, name: string): LabDatastoreFields | undefined {
  if (!/^[a-z0-9]{1,16}$/.test(name)) return undefined;
  try {
    return JSON.parse(readFileSync(`${root}/${name}/lab.json`, "utf8")) as LabDatastoreFields;
  } catch {
    return undefined;
  }
}

function labTarget(lab: LabDatastoreFields): DatastoreTarget {
  if (!lab.etcd?.endpoint) {
    throw new TartanError(
      "lab-no-datastore",
      `lab "${lab.name}" has no etcd`,
      `recreate it: tartan lab down --name ${lab.name}; tartan lab up --name ${lab.name}`,
    );
  }
  return { type: "lab", lab: lab.name, netns: lab.fabric.netns, endpoint: lab.etcd.endpoint };
}
