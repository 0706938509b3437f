import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { type LabEtcdResult, labEtcd } from "../lab-etcd.ts";
import { labName } from "./lab-name.ts";

/** `tartan lab etcd stop|start`: an etcd outage drill (same data dir on start). */
export const labEtcdCommands = (["stop", "start"] as const).map((action) =>
  defineCommand<LabEtcdResult>({
    path: ["lab", "etcd", action],
    summary:
      action === "stop"
        ? "drill: stop the lab's etcd (an outage)"
        : "drill: start the lab's etcd again (same data dir)",
    options: [LAB_OPTION],
    examples: [`tartan lab etcd ${action}`],
    needsRoot: true,
    run: async (args) => await labEtcd(labName(args), action),
    render: (r) => `etcd: stopped ${r.stopped ?? "-"}, started ${r.started ?? "-"}\n`,
  }),
);
