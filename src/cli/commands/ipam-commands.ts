import { AgentClient } from "../../api/agent-client.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { type IpamCheck, ipamCheck } from "../../ipam/ipam-check.ts";
import { type IpamShow, ipamShow } from "../../ipam/ipam-show.ts";
import {
  AGENT_IPAM_RELEASE_PATH,
  type IpamReleaseRequest,
  type IpamReleaseResponse,
} from "../../model/agent-api.ts";
import { formatIp, parseIp } from "../../model/ip.ts";
import { defineCommand, type OptionSpec } from "../command.ts";
import { usageError } from "../command-args.ts";
import { readIpamState } from "../ipam-state.ts";
import { formatTable } from "../report.ts";
import { TARGET_OPTIONS } from "./objects-target.ts";

const IPAM_OPTIONS: readonly OptionSpec[] = [
  { name: "node", value: "NODE", description: "only this node's store" },
  {
    name: "socket",
    value: "PATH",
    description: "read the store through the agent at this socket",
    complete: "file",
  },
  ...TARGET_OPTIONS,
];

const IPAM_DESCRIPTION =
  "The pools and blocks come from the datastore (the lab that is up, --lab, --datastore or\n" +
  "--config); each node's reservations from its agent's socket (every node of a lab, else this\n" +
  "host's agent or --socket). A node whose agent does not answer is reported, not waited for.";

/** `tartan ipam show`: pools, blocks with owner and fill, per-node totals. */
export const ipamShowCommand = defineCommand<IpamShow & { unreachable: { node: string; reason: string }[] }>({
  path: ["ipam", "show"],
  summary: "pools, blocks with their owner node and used/free counts, per-node totals",
  description: IPAM_DESCRIPTION,
  options: IPAM_OPTIONS,
  examples: ["tartan ipam show", "tartan ipam show --lab lab1 -o json"],
  run: async (args) => {
    const s = await readIpamState(args);
    return { ...ipamShow({ ...s.snapshot, stores: s.stores }), unreachable: s.unreachable };
  },
  render: (d) => {
    const n = (v: number | undefined) => (v === undefined ? "?" : String(v));
    const parts = [
      formatTable(
        ["POOL", "CIDR", "BLOCK SIZE", "BLOCKS"],
        d.pools.map((p) => [p.name, p.cidr, `/${p.blockSize}`, String(p.blocks)]),
      ),
      formatTable(
        ["BLOCK", "POOL", "NODE", "CAPACITY", "USED", "FREE"],
        d.blocks.map((b) => [
          b.cidr,
          b.pool,
          b.nodeExists ? b.node : `${b.node} (gone)`,
          String(b.capacity),
          n(b.used),
          n(b.free),
        ]),
      ),
      formatTable(
        ["NODE", "BLOCKS", "CAPACITY", "USED", "FREE", "RESERVED"],
        d.nodes.map((x) => [
          x.node,
          String(x.blocks),
          String(x.capacity),
          n(x.used),
          n(x.free),
          n(x.reservations),
        ]),
      ),
    ];
    const down = d.unreachable.map((u) => `unreachable: ${u.node}: ${u.reason}\n`).join("");
    return parts.join("\n") + (down ? `\n${down}` : "");
  },
  exitCode: (d) => (d.unreachable.length ? 1 : 0),
});

/** `tartan ipam check`: every inconsistency, each with what to do; exit 1 when any. */
export const ipamCheckCommand = defineCommand<IpamCheck>({
  path: ["ipam", "check"],
  summary: "find leaked, unreserved and doubly held addresses and orphaned blocks (exit 1 if any)",
  description:
    `${IPAM_DESCRIPTION}\n` +
    "Compares each node's reservations and attachment records with the Pod objects and the IPAM\n" +
    "blocks: addresses reserved for containers that no longer exist, pods whose address is not\n" +
    "reserved, an address held twice, blocks of nodes that are gone; each with the fix.",
  options: IPAM_OPTIONS,
  examples: ["tartan ipam check", "tartan ipam check --lab lab1 -o json", "tartan ipam check --node node-2"],
  run: async (args) => {
    const s = await readIpamState(args);
    const nodes = args.get("node");
    const check = ipamCheck({
      nodes: s.snapshot.nodes,
      // --node: only that node's store; cluster-wide block checks stay.
      blocks: s.snapshot.blocks,
      pods: nodes ? s.snapshot.pods.filter((p) => p.spec?.nodeName === nodes) : s.snapshot.pods,
      stores: s.stores,
      unreachable: s.unreachable,
    });
    return check;
  },
  json: (c) => ({ ok: c.ok, problems: c.problems, checked: c.checked }),
  render: (c) => {
    const what = `${c.checked.nodes.length} node store(s), ${c.checked.reservations} reservations, ${c.checked.pods} pod addresses, ${c.checked.blocks} blocks`;
    if (c.ok) return `ok: no problems (${what})\n`;
    const rows = c.problems.map((p) => [p.kind, p.node ?? "-", p.ip ?? "-", p.detail]);
    const fixes = c.problems
      .map((p, i) => `  ${i + 1}. ${p.kind} ${p.ip ?? p.node ?? ""}: ${p.fix}\n`)
      .join("");
    return `${formatTable(["PROBLEM", "NODE", "IP", "DETAIL"], rows)}\n${c.problems.length} problem(s) in ${what}. What to do:\n${fixes}`;
  },
  exitCode: (c) => (c.ok ? 0 : 1),
});

/** `tartan ipam release --ip IP [--force]`: frees a leaked address through its node's agent. */
export const ipamReleaseCommand = defineCommand<IpamReleaseResponse>({
  path: ["ipam", "release"],
  summary: "free a leaked address (refuses one in use unless --force)",
  description:
    `${IPAM_DESCRIPTION}\n` +
    "Finds the node whose store reserves IP and has its agent release the owner (the container\n" +
    "and interface holding it: all its addresses, and its attachment record), as a CNI DEL would.\n" +
    "Refused while the address is in use: a Pod lists it, or the owner's network namespace exists.",
  options: [
    { name: "ip", value: "IP", description: "the address to free", required: true },
    {
      name: "force",
      description: "release even when it is in use (the container then has an address no one reserves)",
    },
    ...IPAM_OPTIONS,
  ],
  examples: [
    "tartan ipam release --ip 10.244.1.17",
    "tartan ipam release --ip fd00:10:244::9 --lab lab1 --force",
  ],
  run: async (args) => {
    let ip: string;
    try {
      ip = formatIp(parseIp(args.get("ip")!));
    } catch {
      throw usageError(`--ip "${args.get("ip")}" is not an IP address`, "tartan ipam release");
    }
    const s = await readIpamState(args);
    const holders = s.stores.filter((st) => st.reservations.some((r) => r.ip === ip));
    if (holders.length === 0) {
      const unread = s.unreachable.map((u) => u.node);
      throw new TartanError(
        "ipam-not-reserved",
        `no node's IPAM store reserves ${ip}${unread.length ? ` (not read: ${unread.join(", ")}: agent unreachable)` : ""}`,
        "tartan ipam check lists the leaked addresses",
      );
    }
    if (holders.length > 1) {
      throw new TartanError(
        "ipam-release-refused",
        `${ip} is reserved on ${holders.map((h) => h.node).join(" and ")}: releasing it on one node does not fix that`,
        "tartan ipam check says which pods hold it; delete and re-create them, or name the node with --node",
      );
    }
    const store = holders[0]!;
    const force = args.flag("force");
    const pods = s.snapshot.pods.filter((p) => (p.status?.podIPs ?? []).some((x) => x.ip === ip));
    if (pods.length && !force) {
      const names = pods.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).join(", ");
      throw new TartanError(
        "ipam-release-refused",
        `${ip} is in use: Pod ${names} lists it`,
        "delete the pod instead (its CNI DEL frees the address); release anyway with --force",
      );
    }
    const agent = s.agents.find((a) => a.node === store.node) ?? s.agents.find((a) => a.node === "-")!;
    return await new AgentClient(agent.socket).request<IpamReleaseResponse>({
      method: "POST",
      path: AGENT_IPAM_RELEASE_PATH,
      body: { ip, force } satisfies IpamReleaseRequest,
      doing: `releasing ${ip} on node ${store.node}`,
    });
  },
  render: (r) =>
    `released on ${r.node}: ${r.released.map((a) => `${a.ip} (container ${a.containerId.slice(0, 12)}, ${a.ifname})`).join(", ")}` +
    `${r.attachmentRemoved ? "; its attachment record removed" : ""}\n`,
});
