import { readFileSync } from "node:fs";
import { parseAgentConfig } from "../agent/agent-config.ts";
import type { DatastoreConfig } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type LabDatastoreFields, labRoot, pickLab, readLab } from "./labs-up.ts";

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

const NO_DATASTORE_HINT =
  "start a lab (tartan lab up), or name a datastore: --datastore etcd=http://HOST:2379, " +
  "--datastore local=/var/lib/tartan/datastore.db, or --config /path/to/agent.yaml";

/**
 * Picks the datastore like kubectl picks its context: --datastore or --config when given, else
 * the lab named by --lab, else the one lab that is up. Several labs up and no --lab is an error
 * (acting on the wrong cluster would be worse than asking).
 */
export function datastoreTarget(o: TargetOptions, root = labRoot()): DatastoreTarget {
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
  const name = pickLab(o.lab, root);
  if (name !== undefined) {
    const lab = readLab(root, name);
    if (!lab)
      throw new TartanError("lab-not-up", `lab "${name}" is not up`, `start it: tartan lab up --lab ${name}`);
    return labTarget(lab);
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

function labTarget(lab: LabDatastoreFields): DatastoreTarget {
  if (!lab.etcd?.endpoint) {
    throw new TartanError(
      "lab-no-datastore",
      `lab "${lab.name}" has no etcd`,
      `recreate it: tartan lab down --lab ${lab.name}; tartan lab up --lab ${lab.name}`,
    );
  }
  return { type: "lab", lab: lab.name, netns: lab.fabric.netns, endpoint: lab.etcd.endpoint };
}
