import { existsSync } from "node:fs";
import { openDatastore } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { type ClusterSnapshot, readClusterSnapshot } from "./cluster-snapshot.ts";
import type { CommandArgs } from "./command-args.ts";
import { datastoreTarget, etcdFlagsArgv } from "./datastore-target.ts";
import { type LabFileFields, readLabFile } from "./lab-file.ts";
import { requireRoot } from "./require-root.ts";
import { selfArgv } from "./self-argv.ts";

/** The hidden command that prints a ClusterSnapshot as JSON (run inside a lab's fabric namespace). */
export const SNAPSHOT_COMMAND = "cluster-snapshot";

/**
 * The cluster's objects from where the options point (TARGET_OPTIONS: --lab, --datastore,
 * --config, or the one lab that is up), and the lab's state when it is a lab. A lab's etcd
 * listens inside its fabric namespace: the snapshot is read by this executable run in there
 * (one process, JSON on stdout), the rest of the command stays out here.
 */
export async function readSnapshotTarget(
  args: CommandArgs,
): Promise<{ snapshot: ClusterSnapshot; lab?: LabFileFields }> {
  const target = datastoreTarget({
    datastore: args.get("datastore"),
    config: args.get("config"),
    lab: args.get("lab"),
    etcdCa: args.get("etcd-ca"),
    etcdCert: args.get("etcd-cert"),
    etcdKey: args.get("etcd-key"),
    etcdUser: args.get("etcd-user"),
    etcdPasswordFile: args.get("etcd-password-file"),
  });
  if (target.type === "lab") {
    requireRoot(`reaching lab "${target.lab}" (its etcd is inside network namespace ${target.netns})`);
    const r = await run(
      [
        ...selfArgv(),
        SNAPSHOT_COMMAND,
        "--datastore",
        target.endpoint,
        ...etcdFlagsArgv(target.tls),
        "-o",
        "json",
      ],
      { netns: `/run/netns/${target.netns}`, allowFailure: true, timeoutMs: 30_000 },
    );
    if (r.code !== 0) {
      throw new TartanError(
        "lab-objects-failed",
        `reading the objects of lab "${target.lab}" failed: ${r.stderr.trim().replace(/^tartan: /, "")}`,
        `is the lab's etcd up? (tartan lab ls --lab ${target.lab})`,
      );
    }
    const lab = readLabFile(target.lab);
    return { snapshot: JSON.parse(r.stdout) as ClusterSnapshot, ...(lab ? { lab } : {}) };
  }
  if (target.config.type === "local" && !existsSync(target.config.path)) {
    throw new TartanError(
      "no-datastore",
      `no local datastore at ${target.config.path}`,
      "check the path given with --datastore local=PATH (the agent's `datastore.path`)",
    );
  }
  const ds = await openDatastore(target.config);
  try {
    return { snapshot: await readClusterSnapshot(ds) };
  } finally {
    await ds.close();
  }
}
