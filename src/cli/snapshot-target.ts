import { openDatastore } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { type ClusterSnapshot, readClusterSnapshot } from "./cluster-snapshot.ts";
import type { CommandArgs } from "./command-args.ts";
import { datastoreTargetOf, etcdFlagsArgv, refuseMissingLocalStore } from "./datastore-target.ts";
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
  const target = datastoreTargetOf(args);
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
  refuseMissingLocalStore(target.config);
  const ds = await openDatastore(target.config);
  try {
    return { snapshot: await readClusterSnapshot(ds) };
  } finally {
    await ds.close();
  }
}
