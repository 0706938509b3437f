import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseDatastoreFile } from "../agent/agent-config.ts";
import type { DatastoreConfig, EtcdTlsFiles } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type LabDatastoreFields, labRoot, pickLab, readLab } from "./labs-up.ts";

/** The flags that give `tartan … --datastore https://…` the TLS files (and user) of an etcd. */
export function etcdFlagsArgv(tls: EtcdTlsFiles | undefined): string[] {
  if (!tls) return [];
  return [
    "--etcd-ca",
    tls.caFile,
    ...(tls.certFile && tls.keyFile ? ["--etcd-cert", tls.certFile, "--etcd-key", tls.keyFile] : []),
  ];
}

/** Where `tartan apply|get|delete|label` read and write objects. */
export type DatastoreTarget =
  | { type: "direct"; config: DatastoreConfig; source: string }
  /** A lab's etcd: it listens inside the lab's fabric namespace, reachable only from in there. */
  | { type: "lab"; lab: string; netns: string; endpoint: string; tls?: EtcdTlsFiles };

export interface TargetOptions {
  datastore?: string;
  config?: string;
  lab?: string;
  /** TLS and user for `--datastore` etcd endpoints (`--etcd-ca`, `--etcd-cert`, ...). */
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
  etcdUser?: string;
  etcdPasswordFile?: string;
}

/** The target the command's TARGET_OPTIONS name (--datastore, --config, --lab, --etcd-*). */
export function datastoreTargetOf(args: { get(name: string): string | undefined }): DatastoreTarget {
  return datastoreTarget({
    datastore: args.get("datastore"),
    config: args.get("config"),
    lab: args.get("lab"),
    etcdCa: args.get("etcd-ca"),
    etcdCert: args.get("etcd-cert"),
    etcdKey: args.get("etcd-key"),
    etcdUser: args.get("etcd-user"),
    etcdPasswordFile: args.get("etcd-password-file"),
  });
}

/**
 * A command that only reads never creates a store: a mistyped local path is an error, not a new,
 * empty database that answers "No resources found".
 */
export function refuseMissingLocalStore(config: DatastoreConfig): void {
  if (config.type === "local" && !existsSync(config.path)) {
    throw new TartanError(
      "no-datastore",
      `no local datastore at ${config.path}`,
      "check the path given with --datastore local=PATH (the agent's `datastore.path`)",
    );
  }
}

const NO_DATASTORE_HINT =
  "start a lab (tartan lab up), or name a datastore: --datastore https://HOST:2379 --etcd-ca FILE " +
  "--etcd-cert FILE --etcd-key FILE, --datastore local=/var/lib/tartan/datastore.db, or --config FILE " +
  "(an agent config or a file with a datastore: section)";

const ETCD_FLAGS = ["etcdCa", "etcdCert", "etcdKey", "etcdUser", "etcdPasswordFile"] as const;
const flagName = (k: (typeof ETCD_FLAGS)[number]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Picks the datastore like kubectl picks its context: --datastore or --config when given, else
 * the lab named by --lab, else the one lab that is up. Several labs up and no --lab is an error
 * (acting on the wrong cluster would be worse than asking).
 */
export function datastoreTarget(o: TargetOptions, root = labRoot()): DatastoreTarget {
  const given = [o.datastore && "--datastore", o.config && "--config", o.lab && "--lab"].filter(Boolean);
  if (given.length > 1)
    throw new TartanError("cli-usage", `${given.join(" and ")} cannot be combined`, "pick one");
  const etcdFlags = ETCD_FLAGS.filter((k) => o[k] !== undefined);
  if (etcdFlags.length > 0 && !o.datastore) {
    throw new TartanError(
      "cli-usage",
      `${etcdFlags.map(flagName).join(", ")} go with --datastore (a --config file or a lab brings its own)`,
      "add --datastore https://HOST:2379, or put them in the file's datastore.tls / datastore.auth",
    );
  }
  if (o.datastore)
    return {
      type: "direct",
      config: withEtcdFlags(parseDatastoreOption(o.datastore), o),
      source: "--datastore",
    };
  if (o.config) {
    let text: string;
    try {
      text = readFileSync(o.config, "utf8");
    } catch (e) {
      throw new TartanError("cli-usage", `cannot read ${o.config}: ${(e as Error).message}`);
    }
    return { type: "direct", config: parseDatastoreFile(text, o.config), source: o.config };
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

/** The `--etcd-*` flags on an etcd `--datastore`. */
function withEtcdFlags(config: DatastoreConfig, o: TargetOptions): DatastoreConfig {
  const given = ETCD_FLAGS.filter((k) => o[k] !== undefined);
  if (given.length === 0) return config;
  if (config.type !== "etcd") {
    throw new TartanError("cli-usage", `${given.map(flagName).join(", ")} apply to an etcd --datastore only`);
  }
  if ((o.etcdCert || o.etcdKey) && !o.etcdCa) {
    throw new TartanError(
      "cli-usage",
      "--etcd-cert/--etcd-key need --etcd-ca (the CA of etcd's certificate)",
    );
  }
  if (!o.etcdCert !== !o.etcdKey) {
    throw new TartanError("cli-usage", "--etcd-cert and --etcd-key go together");
  }
  if (!o.etcdUser !== !o.etcdPasswordFile) {
    throw new TartanError("cli-usage", "--etcd-user and --etcd-password-file go together");
  }
  if (o.etcdCa && !config.endpoints.every((e) => /^https:\/\//i.test(e))) {
    throw new TartanError(
      "cli-usage",
      `--etcd-ca needs https:// endpoints, not ${config.endpoints.join(",")}`,
      "write --datastore https://HOST:2379",
    );
  }
  return {
    ...config,
    ...(o.etcdCa
      ? {
          tls: {
            caFile: o.etcdCa,
            ...(o.etcdCert && o.etcdKey ? { certFile: o.etcdCert, keyFile: o.etcdKey } : {}),
          },
        }
      : {}),
    ...(o.etcdUser && o.etcdPasswordFile
      ? { auth: { username: o.etcdUser, passwordFile: o.etcdPasswordFile } }
      : {}),
  };
}

/**
 * `https://h:2379[,https://h2:2379]` or `http://…` (etcd), `etcd=URL[,URL]`, or
 * `local=/path/to/db`.
 */
export function parseDatastoreOption(text: string): DatastoreConfig {
  if (/^https?:\/\//i.test(text)) return { type: "etcd", endpoints: text.split(",").filter(Boolean) };
  // The Kubernetes API: in-cluster, or `kubernetes=/path/to/kubeconfig` (decision 0015).
  if (text === "kubernetes") return { type: "kubernetes" };
  const eq = text.indexOf("=");
  const type = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (eq > 0 && value !== "") {
    if (type === "etcd") return { type: "etcd", endpoints: value.split(",").filter(Boolean) };
    if (type === "local") return { type: "local", path: value };
    if (type === "kubernetes") return { type: "kubernetes", kubeconfig: resolve(value) };
  }
  throw new TartanError(
    "cli-usage",
    `--datastore "${text}" is not an etcd URL (https://HOST:2379[,URL]), etcd=URL[,URL], local=PATH, kubernetes or kubernetes=KUBECONFIG`,
    NO_DATASTORE_HINT,
  );
}

function labTarget(lab: LabDatastoreFields): DatastoreTarget {
  // A lab in Kubernetes mode: its objects go through its API server (also in the fabric).
  if (lab.kubeApi?.kubeconfig) {
    return {
      type: "lab",
      lab: lab.name,
      netns: lab.fabric.netns,
      endpoint: `kubernetes=${lab.kubeApi.kubeconfig}`,
    };
  }
  if (!lab.etcd?.endpoint) {
    throw new TartanError(
      "lab-no-datastore",
      `lab "${lab.name}" has no etcd`,
      `recreate it: tartan lab down --lab ${lab.name}; tartan lab up --lab ${lab.name}`,
    );
  }
  return {
    type: "lab",
    lab: lab.name,
    netns: lab.fabric.netns,
    endpoint: lab.etcd.endpoint,
    ...(lab.etcd.tls ? { tls: lab.etcd.tls } : {}),
  };
}
