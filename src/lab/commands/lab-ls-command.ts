import { defineCommand } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { formatTable } from "../../cli/report.ts";
import { type LabListing, labLs } from "../lab-ls.ts";
import { labName } from "./lab-name.ts";

export const labLsCommand = defineCommand<LabListing>({
  path: ["lab", "ls"],
  summary: "nodes (underlay address, state) and pods (node, IPs)",
  options: [LAB_OPTION],
  examples: ["tartan lab ls", "tartan lab ls -o json"],
  needsRoot: true,
  run: async (args) => await labLs(labName(args)),
  render: (l) =>
    [
      `lab ${l.name}: backend ${l.backend}, ${l.subnets} underlay subnet(s), etcd ${l.etcd.endpoint ?? "-"} ${l.etcd.running ? "running" : "STOPPED"}\n` +
        (l.kubeApi
          ? `Kubernetes API ${l.kubeApi.url} ${l.kubeApi.running ? "running" : "STOPPED"} (tartan lab kubectl --lab ${l.name} -- …; kubeconfig ${l.kubeApi.kubeconfig})\n`
          : ""),
      formatTable(
        ["NODE", "UNDERLAY", "SUBNET", "STATE", "READINESS", "AGENT PID"],
        l.nodes.map((n) => [
          n.name,
          n.underlayAddress,
          n.underlaySubnet,
          n.state,
          n.readiness,
          n.agentPid ? String(n.agentPid) : "-",
        ]),
      ),
      l.tor
        ? `\nToR: FRR AS ${l.tor.asNumber} on ${l.tor.peerIP} in ${l.tor.netns}, ${l.tor.state} (zebra ${l.tor.zebraPid ?? "-"}, bgpd ${l.tor.bgpdPid ?? "-"}; vtysh --vty_socket ${l.tor.dir})\n` +
          (l.tor.sessions.length
            ? formatTable(
                ["TOR PEER", "AS", "STATE", "PREFIXES RECEIVED"],
                l.tor.sessions.map((s) => [s.peer, String(s.asNumber), s.state, String(s.prefixesReceived)]),
              )
            : "no BGP sessions yet\n")
        : "",
      l.outside
        ? `\noutside host: ${l.outside.address}, ${l.outside.address6} in ${l.outside.netns} (${l.outside.state}); tartan lab exec outside -- ping POD_IP\n`
        : "",
      l.pods.length
        ? `\n${formatTable(
            ["POD", "NODE", "IPS", "STATE", "NAMESPACE (netns)"],
            l.pods.map((p) => [p.pod, p.node, p.ips.join(",") || "-", p.state, p.netns]),
          )}`
        : "\nno pods (tartan lab pod add NODE POD)\n",
    ].join(""),
});
