import { type ClusterSnapshot, readClusterSnapshot } from "../cluster-snapshot.ts";
import { defineCommand } from "../command.ts";
import { SNAPSHOT_COMMAND } from "../snapshot-target.ts";
import { onTarget, TARGET_OPTIONS } from "./objects-target.ts";

/**
 * Hidden: the cluster's objects (as the agents mirror them) as one JSON document. `explain` and
 * `ipam` run it inside a lab's fabric namespace, where the lab's etcd listens; tests and the web
 * view use it to compute explanations in-process (calc/explain.ts).
 */
export const clusterSnapshotCommand = defineCommand<ClusterSnapshot>({
  path: [SNAPSHOT_COMMAND],
  summary: "the cluster's objects as the agents see them, as JSON",
  hidden: true,
  options: TARGET_OPTIONS,
  run: (args, { io }) =>
    onTarget(args, io, () => ({ argv: [SNAPSHOT_COMMAND] }), readClusterSnapshot, { readOnly: true }),
  render: (s) => `${JSON.stringify(s)}\n`,
});
