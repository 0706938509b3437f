import { bgpStatusCommand } from "../bgp-status-command.ts";
import type { CommandTable } from "../command.ts";
import { policyDropsCommand, policyStatusCommand } from "../policy-command.ts";
import { agentCommand } from "./agent-command.ts";
import { applyCommand } from "./apply-command.ts";
import { clusterSnapshotCommand } from "./cluster-snapshot-command.ts";
import { deleteCommand } from "./delete-command.ts";
import { diagnoseCommand } from "./diagnose-command.ts";
import { dropsCommand } from "./drops-command.ts";
import { explainCommand } from "./explain-command.ts";
import { getCommand } from "./get-command.ts";
import { installCommand } from "./install-command.ts";
import { ipamCheckCommand, ipamReleaseCommand, ipamShowCommand } from "./ipam-commands.ts";
import { ipamLsCommand } from "./ipam-ls-command.ts";
import { labelCommand } from "./label-command.ts";
import { manifestCommand } from "./manifest-command.ts";
import { statusCommand } from "./status-command.ts";
import { versionCommand } from "./version-command.ts";

/**
 * The commands of the cli layer, in help order. main.ts appends the lab's (a layer above) and
 * hands the whole table to runCommandTable; `help` and `completion` are made from the table.
 */
export const CLI_COMMANDS: CommandTable = [
  versionCommand,
  {
    path: ["ipam"],
    summary: "addresses: pools, blocks, each node's reservations; check and repair",
    group: true,
  },
  ipamLsCommand,
  ipamShowCommand,
  ipamCheckCommand,
  ipamReleaseCommand,
  agentCommand,
  installCommand,
  manifestCommand,
  applyCommand,
  deleteCommand,
  getCommand,
  labelCommand,
  {
    path: ["policy"],
    summary: "what the agents enforce: drops and isolation per pod",
    group: true,
  },
  policyDropsCommand,
  policyStatusCommand,
  dropsCommand,
  explainCommand,
  clusterSnapshotCommand,
  statusCommand,
  diagnoseCommand,
  { path: ["bgp"], summary: "BGP through BIRD: sessions and routes per node", group: true },
  bgpStatusCommand,
];
