import { defineCommand } from "../../cli/command.ts";
import type { CommandArgs } from "../../cli/command-args.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { formatTable } from "../../cli/report.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import {
  DEFAULT_ROUTING_BACKEND,
  ROUTING_BACKENDS,
  type RoutingBackendName,
} from "../../model/routing-backend.ts";
import type { LabAgentTuning } from "../lab-agent-config.ts";
import { labDown } from "../lab-down.ts";
import type { LabState } from "../lab-state.ts";
import { labUp } from "../lab-up.ts";
import { makeProgress } from "../progress.ts";
import { LAB_TOR_AS } from "../tor-plan.ts";
import { labFlag } from "./lab-name.ts";

export const DEFAULT_LAB = "tartan";

/** The timing options given, as agent config fields (the agent validates their order). */
function agentTuning(args: CommandArgs): LabAgentTuning | undefined {
  const t: LabAgentTuning = {};
  const heartbeat = args.int("heartbeat-seconds", 1, 3600);
  const notReady = args.int("node-not-ready-after", 2, 86_400);
  const reclaim = args.int("node-reclaim-after", 0, 864_000);
  // A short grace needs heartbeats well inside it: 4 per grace unless the user chose.
  const beat =
    heartbeat ?? (notReady !== undefined ? Math.max(1, Math.min(30, Math.floor(notReady / 4))) : undefined);
  if (beat !== undefined) t.heartbeatSeconds = beat;
  if (notReady !== undefined) t.nodeNotReadyAfterSeconds = notReady;
  if (reclaim !== undefined) t.nodeReclaimAfterSeconds = reclaim;
  if (notReady !== undefined && notReady <= (beat ?? 30)) {
    throw new TartanError(
      "lab-usage",
      `--node-not-ready-after ${notReady} must be longer than the heartbeat (${beat ?? 30} s)`,
      "lower --heartbeat-seconds or raise --node-not-ready-after",
    );
  }
  if (reclaim && reclaim < (notReady ?? 180)) {
    throw new TartanError(
      "lab-usage",
      `--node-reclaim-after ${reclaim} is shorter than the not-ready grace (${notReady ?? 180} s)`,
      "raise --node-reclaim-after, or set --node-not-ready-after below it",
    );
  }
  return Object.keys(t).length > 0 ? t : undefined;
}

export const labUpCommand = defineCommand<LabState>({
  path: ["lab", "up"],
  summary: "a fabric namespace with etcd, N node namespaces with an agent each",
  description:
    "Fabric namespace tl-LAB-fabric (underlay bridges 198.18.0.0/24, 198.18.1.0/24), nodes\n" +
    "tl-LAB-node-1..N with an agent each, etcd in the fabric. --ipv6: dual-stack pods (an IPv6\n" +
    "pool fd00:10:244::/56 besides 10.244.0.0/16). etcd takes only clients with the lab's\n" +
    "certificate (TLS + client-cert auth; files in /run/tartan-lab/LAB/pki) unless --insecure-etcd.\n" +
    "Progress goes to stderr.",
  options: [
    {
      ...LAB_OPTION,
      description: "the new lab's name (1-16 lowercase letters and digits)",
      default: DEFAULT_LAB,
    },
    { name: "nodes", value: "N", description: "how many nodes", default: "3" },
    {
      name: "backend",
      value: "BACKEND",
      description: "how nodes reach each other's pods",
      default: DEFAULT_ROUTING_BACKEND,
      values: ROUTING_BACKENDS,
    },
    {
      name: "subnets",
      value: "N",
      description: "underlay subnets (nodes alternate between them; default 2 for cross-subnet, else 1)",
      values: ["1", "2"],
    },
    { name: "ipv6", description: "dual-stack pods" },
    {
      name: "heartbeat-seconds",
      value: "S",
      description: "how often each agent writes its Node's heartbeat (agent default 30)",
    },
    {
      name: "node-not-ready-after",
      value: "S",
      description: "a node silent this long is marked not ready (agent default 180; decision 0014)",
    },
    {
      name: "node-reclaim-after",
      value: "S",
      description: "… and after this long, if silent on the underlay too, its blocks are released (0: never)",
    },
    {
      name: "insecure-etcd",
      description: "etcd over plain HTTP, no client certificates (default: TLS + client-cert auth)",
    },
    {
      name: "datastore",
      value: "KIND",
      description:
        "etcd: agents use etcd; kubernetes: a stand-in Kubernetes API server on it (tartan lab kubectl)",
      default: "etcd",
      values: ["etcd", "kubernetes"],
    },
    {
      name: "no-agents",
      description: "no agents: pods on one node reach each other, no routes between nodes",
    },
    {
      name: "block-size",
      value: "N",
      description: "prefix length of the IPv4 pool's blocks (default 26: 64 addresses; IPv6 blocks alike)",
    },
    {
      name: "route-reflectors",
      value: "N",
      description: "bgp: nodes 1..N are route reflectors (cluster 244.0.0.1), the node-to-node mesh is off",
    },
    {
      name: "tor",
      description:
        "bgp: a top-of-rack router (FRR in the fabric) peered with every node, and an `outside` host behind it",
    },
    { name: "tor-as", value: "AS", description: "the ToR's AS number", default: String(LAB_TOR_AS) },
    { name: "tor-password", value: "PW", description: "TCP-MD5 password of every node-ToR session" },
  ],
  examples: [
    "tartan lab up",
    "tartan lab up --lab lab2 --nodes 2 --backend host-gw",
    "tartan lab up --ipv6",
    "tartan lab up --backend bgp --tor",
    "tartan lab up --backend bgp --nodes 6 --route-reflectors 2",
    "tartan lab up --lab k8s --datastore kubernetes",
  ],
  needsRoot: true,
  run: async (args) => {
    const name = args.get("lab")!;
    const backend = args.get("backend") as RoutingBackendName;
    // A ^C halfway must not leave half a lab behind.
    process.once("SIGINT", () => {
      process.stderr.write("\ninterrupted: removing the partial lab\n");
      labDown(name).finally(() => process.exit(130));
    });
    return await labUp(
      {
        name,
        nodes: args.int("nodes", 1, 200)!,
        backend,
        subnets: args.int("subnets", 1, 2) ?? ((backend as string).endsWith("cross-subnet") ? 2 : 1),
        agents: !args.flag("no-agents"),
        ipv6: args.flag("ipv6"),
        agentTuning: agentTuning(args),
        insecureEtcd: args.flag("insecure-etcd"),
        datastore: args.get("datastore") as "etcd" | "kubernetes",
        ...(args.flag("tor")
          ? {
              tor: {
                asNumber: args.int("tor-as", 1, 4_294_967_295)!,
                ...(args.get("tor-password") ? { password: args.get("tor-password")! } : {}),
              },
            }
          : {}),
        ...(args.get("block-size") ? { blockSize: args.int("block-size", 16, 30)! } : {}),
        ...(args.get("route-reflectors") ? { routeReflectors: args.int("route-reflectors", 0, 199)! } : {}),
      },
      makeProgress(process.stderr),
    );
  },
  render: (s) => {
    const table = formatTable(
      ["NODE", "NAMESPACE", "UNDERLAY", "AGENT PID"],
      s.nodes.map((n) => [n.name, n.netns, n.underlayAddress, n.agent ? String(n.agent.pid) : "-"]),
    );
    const flag = labFlag(s.name);
    const api = s.kubeApi ? `, Kubernetes API ${s.kubeApi.url}` : "";
    const tor = s.tor
      ? `ToR: FRR AS ${s.tor.asNumber} on ${s.tor.peerIP} in ${s.fabric.netns} (vtysh --vty_socket ${s.tor.dir}); ` +
        `outside host ${s.outside?.address} (tartan lab exec outside${flag} -- ping POD_IP)\n`
      : "";
    return (
      `${table}\nlab "${s.name}" is up (${s.backend}, etcd ${s.etcd?.endpoint ?? "-"}${api} in ${s.fabric.netns}).\n` +
      tor +
      `next: tartan lab pod add node-1 web${flag}; ${s.kubeApi ? `tartan lab kubectl${flag} -- get pods -o wide` : `tartan lab matrix${flag}`}; tartan lab down${flag}\n`
    );
  },
});
