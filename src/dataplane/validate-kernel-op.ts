import { TartanError } from "../errors/tartan-error.ts";
import { parseCidr, parseIpOrCidr } from "../model/cidr.ts";
import { parseIp } from "../model/ip.ts";
import { describeOp } from "./describe-op.ts";
import type { KernelOp } from "./kernel-op.ts";

// Kernel limit IFNAMSIZ-1; no whitespace, quotes, '#' or '\' because ip -batch tokenizes lines,
// and a name must never be able to smuggle a second command into the batch.
const LINK_NAME = /^[A-Za-z0-9_.:@-]{1,15}$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const NETNS_PATH = /^\/[A-Za-z0-9_.:@/-]+$/;

function bad(op: KernelOp, reason: string): never {
  throw new TartanError("invalid-kernel-op", `${describeOp(op)}: ${reason}`, "this is a bug in the caller");
}

function checkInt(op: KernelOp, field: string, v: number | undefined, min: number, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max))
    bad(op, `${field} ${v} is not in ${min}-${max}`);
}

function checkName(op: KernelOp, field: string, v: string | undefined): void {
  if (v !== undefined && (!LINK_NAME.test(v) || v === "." || v === ".."))
    bad(op, `${field} "${v}" is not a link name`);
}

function checkIp(op: KernelOp, field: string, v: string | undefined, family: 4 | 6): void {
  if (v === undefined) return;
  try {
    if (parseIp(v).family !== family) bad(op, `${field} ${v} is not IPv${family}`);
  } catch (e) {
    if (e instanceof TartanError) throw e;
    bad(op, `${field} "${v}" is not an IP address`);
  }
}

function checkDst(op: KernelOp, dst: string, family: 4 | 6): void {
  if (dst === "default") return;
  try {
    if (parseIpOrCidr(dst).ip.family !== family) bad(op, `dst ${dst} is not IPv${family}`);
  } catch (e) {
    if (e instanceof TartanError) throw e;
    bad(op, `dst "${dst}" is not "default" or a CIDR`);
  }
}

/**
 * Rejects ops the kernel would never accept or that could not be rendered safely, before
 * anything is applied. Both drivers call it, so both refuse the same inputs the same way.
 */
export function validateKernelOp(op: KernelOp): void {
  switch (op.op) {
    case "veth-add":
      checkName(op, "name", op.name);
      checkName(op, "peer", op.peer);
      checkInt(op, "mtu", op.mtu, 68, 65535);
      if (op.mac !== undefined && !MAC.test(op.mac)) bad(op, `mac "${op.mac}" is not a MAC address`);
      if (op.peerMac !== undefined && !MAC.test(op.peerMac))
        bad(op, `peerMac "${op.peerMac}" is not a MAC address`);
      if (op.peerNetns !== undefined && !NETNS_PATH.test(op.peerNetns))
        bad(op, "peerNetns is not an absolute path");
      return;
    case "bridge-add":
      checkName(op, "name", op.name);
      checkInt(op, "mtu", op.mtu, 68, 65535);
      if (op.mac !== undefined && !MAC.test(op.mac)) bad(op, `mac "${op.mac}" is not a MAC address`);
      return;
    case "link-set":
      checkName(op, "name", op.name);
      checkInt(op, "mtu", op.mtu, 68, 65535);
      if (op.master !== null) checkName(op, "master", op.master);
      return;
    case "link-del":
      checkName(op, "name", op.name);
      return;
    case "addr-add":
    case "addr-del":
      checkName(op, "dev", op.dev);
      try {
        parseCidr(op.cidr);
      } catch {
        bad(op, `"${op.cidr}" is not an address with a prefix length`);
      }
      return;
    case "route-add":
      checkDst(op, op.dst, op.family);
      checkName(op, "dev", op.dev);
      checkIp(op, "via", op.via, op.family);
      checkIp(op, "src", op.src, op.family);
      checkInt(op, "proto", op.proto, 0, 255);
      checkInt(op, "metric", op.metric, 0, 0xffffffff);
      checkInt(op, "mtu", op.mtu, 68, 65535);
      checkInt(op, "table", op.table, 1, 0xffffffff);
      if (op.type === "blackhole") {
        if (op.dev !== undefined || op.via !== undefined || op.onlink)
          bad(op, "a blackhole route takes no dev, via or onlink");
        return;
      }
      if (op.dev === undefined && op.via === undefined) bad(op, "a route needs dev or via");
      if (op.onlink && (op.dev === undefined || op.via === undefined)) bad(op, "onlink needs dev and via");
      return;
    case "vxlan-add":
      checkName(op, "name", op.name);
      checkName(op, "dev", op.dev);
      checkInt(op, "vni", op.vni, 0, 0xffffff);
      checkInt(op, "dstport", op.dstport, 1, 65535);
      checkInt(op, "mtu", op.mtu, 68, 65535);
      if (op.local !== undefined) checkIp(op, "local", op.local, op.local.includes(":") ? 6 : 4);
      if (op.mac !== undefined && !MAC.test(op.mac)) bad(op, `mac "${op.mac}" is not a MAC address`);
      return;
    case "fdb-replace":
    case "fdb-del":
      checkName(op, "dev", op.dev);
      checkIp(op, "dst", op.dst, op.dst.includes(":") ? 6 : 4);
      if (!MAC.test(op.mac)) bad(op, `mac "${op.mac}" is not a MAC address`);
      return;
    case "neigh-replace":
    case "neigh-del": {
      checkName(op, "dev", op.dev);
      const fam = op.ip.includes(":") ? 6 : 4;
      checkIp(op, "ip", op.ip, fam);
      if (op.op === "neigh-replace" && !MAC.test(op.mac)) bad(op, `mac "${op.mac}" is not a MAC address`);
      return;
    }
    case "route-del":
      checkDst(op, op.dst, op.family);
      checkName(op, "dev", op.dev);
      checkIp(op, "via", op.via, op.family);
      checkInt(op, "proto", op.proto, 0, 255);
      checkInt(op, "table", op.table, 1, 0xffffffff);
      return;
  }
}
