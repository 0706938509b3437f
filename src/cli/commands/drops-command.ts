import { AgentClient } from "../../api/agent-client.ts";
import { followAgent } from "../../api/agent-stream.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { stopSignal } from "../../exec/stop-signal.ts";
import {
  AGENT_DROPS_PATH,
  type DropEndpoint,
  type DropRecord,
  type DropsAnswer,
} from "../../model/agent-api.ts";
import { type AgentRef, agentRefs } from "../agent-refs.ts";
import { defineCommand, Exited } from "../command.ts";
import type { CommandArgs } from "../command-args.ts";
import { LAB_OPTION, NAMESPACE_OPTION } from "../common-options.ts";
import { formatTable } from "../report.ts";

export interface DropsData {
  drops: DropRecord[];
  /** Agents that answered but do not read their log group (why), and agents that did not answer. */
  notListening: { node: string; problem: string }[];
  unreachable: { node: string; reason: string }[];
}

/** `ns/pod ip:port`, or the address alone when no pod holds it. */
export function endpointText(e: DropEndpoint): string {
  const addr = e.ip.includes(":") ? `[${e.ip}]` : e.ip;
  const where = e.port !== undefined ? `${addr}:${e.port}` : addr;
  return e.pod ? `${e.namespace}/${e.pod} ${where}` : where;
}

const clock = (iso: string) => iso.slice(11, 23);
const dirTag = (d: string) => (d === "ingress" ? "ingress" : "egress");

/** The columns of one record: time, node, direction, source, destination, protocol, what decided. */
export function dropRow(r: DropRecord): string[] {
  if (r.kind === "suppressed") {
    // The long words go last: the columns keep the widths of the drops around them.
    const more = `${r.count} more drop${r.count === 1 ? "" : "s"} not shown (rate limit) since ${clock(r.since)}`;
    return [
      clock(r.time),
      r.node,
      dirTag(r.direction),
      "…",
      r.pod,
      "",
      `${r.policies.join(",") || "-"}: ${more}`,
    ];
  }
  const proto = r.icmp ? `${r.protocol} ${r.icmp.type}/${r.icmp.code}` : r.protocol;
  return [
    clock(r.time),
    r.node,
    dirTag(r.direction),
    endpointText(r.src),
    endpointText(r.dst),
    proto,
    r.policies.join(",") || "-",
  ];
}

const HEADER = ["TIME", "NODE", "DIRECTION", "SOURCE", "DESTINATION", "PROTO", "ISOLATED BY"];

function query(args: CommandArgs, extra: Record<string, string>): string {
  const q = new URLSearchParams(extra);
  const ns = args.get("namespace");
  const pod = args.get("pod");
  if (ns) q.set("namespace", ns);
  if (pod) q.set("pod", pod);
  const s = q.toString();
  return s ? `${AGENT_DROPS_PATH}?${s}` : AGENT_DROPS_PATH;
}

/**
 * --follow: one stream per agent, records printed as they come (JSON lines with -o json, else
 * fixed columns), until interrupted or --count drops were printed. An agent that cannot be
 * followed is reported on stderr and the others go on; the exit status is then 1.
 */
async function follow(
  list: AgentRef[],
  args: CommandArgs,
  out: (t: string) => void,
  err: (t: string) => void,
) {
  const json = args.get("output") === "json";
  const max = args.get("count") ? Number(args.get("count")) : Number.POSITIVE_INFINITY;
  const stop = new AbortController();
  stopSignal().then(() => stop.abort());
  let printed = 0;
  let failed = 0;
  const widths = [12, 8, 9, 34, 34, 6, 0];
  if (!json)
    out(
      `${HEADER.map((h, i) => h.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd()}\n`,
    );
  await Promise.all(
    list.map((a) =>
      followAgent(
        a.socket,
        query(args, { follow: "1" }),
        (v) => {
          const line = v as DropsAnswer | DropRecord;
          if (!("kind" in line)) {
            if (!line.listening)
              err(`tartan: node ${a.node}: drops are not reported one by one: ${line.problem}\n`);
            return true;
          }
          out(
            json
              ? `${JSON.stringify(line)}\n`
              : `${dropRow(line)
                  .map((c, i) => c.padEnd(widths[i] ?? 0))
                  .join("  ")
                  .trimEnd()}\n`,
          );
          if (line.kind === "drop" && ++printed >= max) stop.abort();
          return !stop.signal.aborted;
        },
        stop.signal,
      ).catch((e) => {
        failed++;
        err(`tartan: node ${a.node}: ${e instanceof Error ? e.message : String(e)}\n`);
      }),
    ),
  );
  return failed > 0 ? 1 : 0;
}

/** `tartan drops`: packets dropped by policy with pod names, recent (each agent's ring) or live. */
export const dropsCommand = defineCommand<DropsData>({
  path: ["drops"],
  summary:
    "packets dropped by policy, with pod names and the isolating policies (recent, or live with --follow)",
  description:
    "Every agent reads the packets its node's policy drops (nftables log group, rate-limited in the\n" +
    "kernel: `suppressed` lines count what was not shown one by one; `tartan policy drops` has the\n" +
    "exact counters). Without --follow: the recent drops each agent keeps (its last 1000 records).\n" +
    "Asks the agents of the lab that is up (or --lab NAME), or the agent at --socket, or this host's.",
  options: [
    { name: "follow", short: "f", description: "stream drops as they happen (JSON lines with -o json)" },
    { name: "node", value: "NODE", description: "only this node's agent" },
    { ...NAMESPACE_OPTION, description: "only drops to or from pods of this namespace" },
    {
      name: "pod",
      value: "NAME",
      description: "only drops to or from this pod (with -n: of that namespace)",
    },
    { name: "count", value: "N", description: "with --follow: stop after N drops" },
    LAB_OPTION,
    { name: "socket", value: "PATH", description: "ask the agent at this socket", complete: "file" },
  ],
  examples: [
    "tartan drops",
    "tartan drops --follow -n prod --pod web",
    "tartan drops --follow -o json --node node-1",
  ],
  run: async (args, ctx) => {
    const count = args.get("count");
    if (count !== undefined && !/^[1-9][0-9]*$/.test(count))
      throw new TartanError("cli-usage", `--count must be a positive number, got "${count}"`);
    const list = agentRefs({
      node: args.get("node"),
      lab: args.get("lab"),
      socket: args.get("socket"),
      what: "tartan drops",
    }).refs;
    if (args.flag("follow")) return new Exited(await follow(list, args, ctx.io.out, ctx.io.err));
    const data: DropsData = { drops: [], notListening: [], unreachable: [] };
    await Promise.all(
      list.map(async (a) => {
        try {
          const r = await new AgentClient(a.socket).get<DropsAnswer>(
            query(args, {}),
            `asking the agent of node ${a.node}`,
          );
          data.drops.push(...r.records);
          if (!r.listening) data.notListening.push({ node: a.node, problem: r.problem ?? "unknown" });
        } catch (e) {
          data.unreachable.push({ node: a.node, reason: e instanceof Error ? e.message : String(e) });
        }
      }),
    );
    data.drops.sort((x, y) => (x.time < y.time ? -1 : x.time > y.time ? 1 : x.node < y.node ? -1 : 1));
    return data;
  },
  render: (d) =>
    d.drops.length === 0 && d.unreachable.length === 0
      ? "no drops recorded\n"
      : formatTable(HEADER, d.drops.map(dropRow)),
  exitCode: (d, io) => {
    for (const n of d.notListening)
      io.err(`tartan: node ${n.node}: drops are not reported one by one: ${n.problem}\n`);
    for (const u of d.unreachable) io.err(`tartan: node ${u.node}: unreachable: ${u.reason}\n`);
    return d.unreachable.length > 0 ? 1 : 0;
  },
});
