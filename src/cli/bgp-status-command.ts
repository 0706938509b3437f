import { AgentClient } from "../api/agent-client.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { AGENT_BGP_PATH, type BgpNodeStatus } from "../model/agent-api.ts";
import { agentRefs } from "./agent-refs.ts";
import { defineCommand } from "./command.ts";
import { usageError } from "./command-args.ts";
import { LAB_OPTION } from "./common-options.ts";
import { formatTable } from "./report.ts";

export interface BgpStatus {
  nodes: BgpNodeStatus[];
}

const describe = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * `tartan bgp status`: every node's BIRD as its agent sees it (GET /v1/bgp on the agent's socket:
 * the agent asks bird's control socket, so this command enters no namespace). An agent that does
 * not answer is reported as such and the others are still shown (exit 1).
 */
export const bgpStatusCommand = defineCommand<BgpStatus>({
  path: ["bgp", "status"],
  summary: "per node: BGP sessions (peer, AS, type, state, routes), routes BIRD installed, a verdict",
  description:
    "Asks the node agents of the lab that is up (or --lab NAME), or the agent at --socket, or this\nhost's agent; each asks its BIRD. Exit 1 when a node is unreachable or not healthy.",
  options: [
    { name: "node", value: "NODE", description: "only this node" },
    { name: "all", description: "every node (the default)" },
    LAB_OPTION,
    { name: "socket", value: "PATH", description: "ask the agent at this socket", complete: "file" },
  ],
  examples: ["tartan bgp status", "tartan bgp status --node node-2 -o json", "tartan bgp status -o wide"],
  run: async (args) => {
    if (args.has("node") && args.flag("all"))
      throw usageError("give --node or --all, not both", "tartan bgp status");
    const { refs } = agentRefs({
      node: args.get("node"),
      lab: args.get("lab"),
      socket: args.get("socket"),
      what: "tartan bgp status",
    });
    const nodes = await Promise.all(
      refs.map(async (a): Promise<BgpNodeStatus> => {
        try {
          const s = await new AgentClient(a.socket).get<BgpNodeStatus>(
            AGENT_BGP_PATH,
            a.node === "-" ? `asking the agent at ${a.socket}` : `asking the agent of node ${a.node}`,
          );
          return a.node === "-" || s.name === a.node ? s : { ...s, name: a.node };
        } catch (e) {
          const off = e instanceof TartanError && e.code === "bgp-off";
          return {
            name: a.node,
            healthy: false,
            verdict: off ? "off: this node does not run BGP" : `unreachable: ${describe(e)}`,
            sessions: [],
            routes: [],
            problems: [],
            error: describe(e),
          };
        }
      }),
    );
    return { nodes };
  },
  exitCode: (d) => (d.nodes.every((n) => n.healthy) ? 0 : 1),
  render: (d, { wide }) => {
    const out: string[] = [];
    for (const n of d.nodes) {
      const head = [
        `node ${n.name}`,
        n.asNumber !== undefined ? `AS ${n.asNumber}` : "",
        n.routerId ? `router id ${n.routerId}` : "",
        n.routeReflectorClusterID ? `route reflector (cluster ${n.routeReflectorClusterID})` : "",
      ]
        .filter(Boolean)
        .join(", ");
      out.push(`${head}: ${n.verdict}\n`);
      if (n.sessions.length > 0) {
        out.push(
          formatTable(
            ["PEER", "NODE", "AS", "TYPE", "STATE", "SINCE", "IMPORTED", "EXPORTED", "INFO"],
            n.sessions.map((s) => [
              s.peer,
              s.peerNode ?? "(external)",
              String(s.asNumber),
              s.type,
              s.state,
              s.since,
              String(s.importedRoutes),
              String(s.exportedRoutes),
              s.info,
            ]),
          ),
        );
      }
      if (wide && n.routes.length > 0) {
        out.push(
          formatTable(
            ["ROUTE", "VIA", "DEV", "FROM"],
            n.routes.map((r) => [r.dst, r.via ?? "-", r.dev ?? "-", r.from]),
          ),
        );
      } else if (n.routes.length > 0) {
        out.push(`  ${n.routes.length} routes installed by BIRD (--wide lists them)\n`);
      }
      for (const p of n.problems) out.push(`  not configured: ${p}\n`);
      out.push("\n");
    }
    return out.join("");
  },
});
