import type { CommandTable } from "../../cli/command.ts";
import { labAgentCommands } from "./lab-agent-commands.ts";
import { labDownCommand } from "./lab-down-command.ts";
import { labEtcdCommands } from "./lab-etcd-commands.ts";
import { labExecCommand } from "./lab-exec-command.ts";
import { labForgetNodeCommand, labProbeCommand, labResponderCommand } from "./lab-internal-commands.ts";
import { labKubeApiServerCommand, labKubectlCommand, labKubeRequestCommand } from "./lab-kube-commands.ts";
import { labLabelCommand } from "./lab-label-command.ts";
import { labLsCommand } from "./lab-ls-command.ts";
import { labMatrixCommand } from "./lab-matrix-command.ts";
import { labNodeAddCommand } from "./lab-node-add-command.ts";
import { labNodeRmCommand } from "./lab-node-rm-command.ts";
import { labPodAddCommand } from "./lab-pod-add-command.ts";
import { labPodRmCommand } from "./lab-pod-rm-command.ts";
import { labUpCommand } from "./lab-up-command.ts";

/** The lab's commands, in help order; main.ts appends them to the cli layer's. */
export const LAB_COMMANDS: CommandTable = [
  {
    path: ["lab"],
    summary: "a whole cluster in network namespaces on this machine (root)",
    description:
      "Every lab command takes --lab NAME; when exactly one lab is up, it is the one used. Several\n" +
      'labs can coexist (name them). A pod is POD or NAMESPACE/POD (namespace "default").',
    group: true,
  },
  labUpCommand,
  labDownCommand,
  labLsCommand,
  labMatrixCommand,
  { path: ["lab", "pod"], summary: "add and remove lab pods", group: true },
  labPodAddCommand,
  labPodRmCommand,
  labLabelCommand,
  labExecCommand,
  labKubectlCommand,
  { path: ["lab", "node"], summary: "add and remove lab nodes", group: true },
  labNodeAddCommand,
  labNodeRmCommand,
  { path: ["lab", "agent"], summary: "drills: stop, start, restart a node's agent", group: true },
  ...labAgentCommands,
  { path: ["lab", "etcd"], summary: "drills: an etcd outage", group: true },
  ...labEtcdCommands,
  labForgetNodeCommand,
  labResponderCommand,
  labProbeCommand,
  labKubeApiServerCommand,
  labKubeRequestCommand,
];
