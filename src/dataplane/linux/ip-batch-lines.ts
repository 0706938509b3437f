import { formatCidr, parseCidr, parseIpOrCidr } from "../../model/cidr.ts";
import { formatIp, parseIp } from "../../model/ip.ts";
import type { KernelOp } from "../kernel-op.ts";
import { validateKernelOp } from "../validate-kernel-op.ts";

export interface IpBatch {
  /** Lines for `ip -batch -`, without the leading "ip". */
  lines: string[];
  /** For each line, the index of the op it came from (ip reports failures by line number). */
  opIndex: number[];
}

function routeDst(dst: string, family: 4 | 6): string {
  // Explicit ::/0 because a batch line cannot carry -6, and a bare "default" means IPv4.
  if (dst === "default") return family === 4 ? "0.0.0.0/0" : "::/0";
  return formatCidr(parseIpOrCidr(dst));
}

function linkSetLines(op: Extract<KernelOp, { op: "link-set" }>): string[] {
  const lines: string[] = [];
  const attrs: string[] = [];
  if (op.mtu !== undefined) attrs.push("mtu", String(op.mtu));
  if (op.master === null) attrs.push("nomaster");
  else if (op.master !== undefined) attrs.push("master", op.master);
  if (attrs.length > 0) lines.push(["link set dev", op.name, ...attrs].join(" "));
  // Hairpin is bridge-port data, which the kernel applies with the *current* master before it
  // processes a master change in the same message, so it must be a line after the master line.
  if (op.hairpin !== undefined) {
    lines.push(`link set dev ${op.name} type bridge_slave hairpin ${op.hairpin ? "on" : "off"}`);
  }
  // Up last: a port comes up already attached and configured.
  if (op.up !== undefined) lines.push(`link set dev ${op.name} ${op.up ? "up" : "down"}`);
  return lines;
}

/** The ip -batch line(s) of one op; every op validated first, so no text can escape its line. */
export function ipBatchOpLines(op: KernelOp): string[] {
  validateKernelOp(op);
  switch (op.op) {
    case "veth-add": {
      const local = [`link add ${op.name} mtu ${op.mtu}`];
      if (op.mac) local.push(`address ${op.mac.toLowerCase()}`);
      const peer = [`type veth peer name ${op.peer} mtu ${op.mtu}`];
      if (op.peerMac) peer.push(`address ${op.peerMac.toLowerCase()}`);
      if (op.peerNetns) peer.push(`netns ${op.peerNetns}`);
      return [[...local, ...peer].join(" ")];
    }
    case "bridge-add": {
      const parts = [`link add ${op.name}`];
      if (op.mtu !== undefined) parts.push(`mtu ${op.mtu}`);
      if (op.mac) parts.push(`address ${op.mac.toLowerCase()}`);
      parts.push("type bridge");
      return [parts.join(" ")];
    }
    case "link-set":
      return linkSetLines(op);
    case "link-del":
      return [`link del dev ${op.name}`];
    case "addr-add": {
      const c = parseCidr(op.cidr);
      const parts = [`addr ${op.replace ? "replace" : "add"} ${formatCidr(c)}`];
      // Like netlink-based CNI plugins: IPv4 subnets get their broadcast address.
      if (c.ip.family === 4 && c.prefix < 31) parts.push("broadcast +");
      parts.push(`dev ${op.dev}`);
      if (op.nodad && c.ip.family === 6) parts.push("nodad");
      return [parts.join(" ")];
    }
    case "addr-del":
      return [`addr del ${formatCidr(parseCidr(op.cidr))} dev ${op.dev}`];
    case "route-add": {
      const type = op.type === "blackhole" ? "blackhole " : "";
      const verb = op.replace ? "replace" : op.append ? "append" : "add";
      const parts = [`route ${verb} ${type}${routeDst(op.dst, op.family)}`];
      if (op.via !== undefined) parts.push(`via ${formatIp(parseIp(op.via))}`);
      if (op.dev !== undefined) parts.push(`dev ${op.dev}`);
      if (op.onlink) parts.push("onlink");
      if (op.src !== undefined) parts.push(`src ${formatIp(parseIp(op.src))}`);
      if (op.proto !== undefined) parts.push(`proto ${op.proto}`);
      if (op.scope !== undefined) parts.push(`scope ${op.scope}`);
      if (op.metric !== undefined) parts.push(`metric ${op.metric}`);
      if (op.table !== undefined) parts.push(`table ${op.table}`);
      if (op.mtu !== undefined) parts.push(`mtu ${op.mtu}`);
      return [parts.join(" ")];
    }
    case "neigh-replace":
      return [
        `neigh replace ${formatIp(parseIp(op.ip))} lladdr ${op.mac.toLowerCase()} dev ${op.dev} nud permanent`,
      ];
    case "neigh-del":
      return [`neigh del ${formatIp(parseIp(op.ip))} dev ${op.dev}`];
    case "vxlan-add": {
      const parts = [`link add ${op.name}`];
      if (op.mtu !== undefined) parts.push(`mtu ${op.mtu}`);
      if (op.mac) parts.push(`address ${op.mac.toLowerCase()}`);
      parts.push(`type vxlan id ${op.vni}`);
      if (op.local !== undefined) parts.push(`local ${formatIp(parseIp(op.local))}`);
      if (op.dev !== undefined) parts.push(`dev ${op.dev}`);
      parts.push(`dstport ${op.dstport}`, op.learning ? "learning" : "nolearning");
      return [parts.join(" ")];
    }
    case "fdb-replace":
    case "fdb-del":
      // ip has no fdb command; the driver sends these to `bridge -batch` (bridgeBatchLine).
      throw new Error(`ipBatchOpLines: ${op.op} is a bridge command, not an ip one`);
    case "route-del": {
      const type = op.type === "blackhole" ? "blackhole " : "";
      const parts = [`route del ${type}${routeDst(op.dst, op.family)}`];
      if (op.via !== undefined) parts.push(`via ${formatIp(parseIp(op.via))}`);
      if (op.dev !== undefined) parts.push(`dev ${op.dev}`);
      if (op.proto !== undefined) parts.push(`proto ${op.proto}`);
      if (op.table !== undefined) parts.push(`table ${op.table}`);
      return [parts.join(" ")];
    }
  }
}

/** Renders ops to one ip -batch script (one spawn per apply on the CNI hot path). */
export function ipBatchLines(ops: readonly KernelOp[]): IpBatch {
  const lines: string[] = [];
  const opIndex: number[] = [];
  ops.forEach((op, i) => {
    for (const line of ipBatchOpLines(op)) {
      lines.push(line);
      opIndex.push(i);
    }
  });
  return { lines, opIndex };
}
