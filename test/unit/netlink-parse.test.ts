// The netlink driver's dump parsers against dumps captured from a real kernel (6.18), each
// compared with what the iproute2 driver read of the same state at capture time
// (test/fixtures/netlink/capture-dumps.ts), and its VXLAN/FDB encoders byte for byte.
import { describe, expect, test } from "bun:test";
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";
import { fdbMessage } from "../../src/dataplane/linux/netlink/fdb-message.ts";
import { NetlinkReads } from "../../src/dataplane/linux/netlink/netlink-reads.ts";
import type { NetlinkSocket, NlReply } from "../../src/dataplane/linux/netlink/netlink-socket.ts";
import { nlAttrs } from "../../src/dataplane/linux/netlink/nl-attrs.ts";
import type { NlMessage } from "../../src/dataplane/linux/netlink/nl-message.ts";
import type { OpContext } from "../../src/dataplane/linux/netlink/op-context.ts";
import { RTNL } from "../../src/dataplane/linux/netlink/rtnl.ts";
import { vxlanMessage } from "../../src/dataplane/linux/netlink/vxlan-message.ts";
import fixture from "../fixtures/netlink/dumps.json";

const view = (hex: string) => {
  const b = Buffer.from(hex, "hex");
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
};
const dumps = Object.fromEntries(Object.entries(fixture.dumps).map(([k, v]) => [k, v.map(view)]));

/** Answers the driver's requests from the captured dumps, as the kernel answered them. */
class CapturedKernel {
  requests: number[] = [];
  talk(msg: NlMessage): NlReply {
    const b = msg.done(1);
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const type = v.getUint16(4, true);
    const dump = (v.getUint16(6, true) & RTNL.NLM_F_DUMP) === RTNL.NLM_F_DUMP;
    const family = v.getUint8(16);
    this.requests.push(type);
    const ok = (messages: DataView[]): NlReply => ({ error: 0, words: "", messages });
    if (type === RTNL.RTM_GETLINK && !dump) {
      const name = nlAttrs(v, 32).get(RTNL.IFLA_IFNAME);
      const index = v.getInt32(20, true);
      const wanted = name ? new TextDecoder().decode(name).replace(/\0.*/, "") : undefined;
      const hit = dumps.links!.find((m) => {
        const n = nlAttrs(m, 32, m.getUint32(0, true)).get(RTNL.IFLA_IFNAME)!;
        return wanted !== undefined
          ? new TextDecoder().decode(n).replace(/\0.*/, "") === wanted
          : m.getInt32(20, true) === index;
      });
      return hit ? ok([hit]) : { error: 19, words: "No such device", messages: [] };
    }
    if (type === RTNL.RTM_GETLINK) return ok(dumps.links!);
    if (type === RTNL.RTM_GETADDR) return ok(dumps.addrs!);
    if (type === RTNL.RTM_GETROUTE) return ok(family === RTNL.AF_INET ? dumps.routes4! : dumps.routes6!);
    if (type === RTNL.RTM_GETNEIGH)
      return ok(family === RTNL.AF_BRIDGE ? dumps.bridgeNeighbours! : dumps.neighbours!);
    throw new Error(`unexpected request ${type}`);
  }
}

const reads = () => new NetlinkReads(new CapturedKernel() as unknown as NetlinkSocket);
const ip = fixture.iproute2;

describe("netlink dumps read as the iproute2 parsers read the same kernel state", () => {
  test("links: kinds, admin state, masters, hairpin, VXLAN attributes", () => {
    expect(reads().links()).toEqual(ip.links as never);
    const vx = reads().link("tartan.vxlan");
    expect(vx).toEqual(ip.links.find((l) => l.name === "tartan.vxlan") as never);
    expect(vx?.vxlan).toEqual({ vni: 4096, dstport: 4789, local: "198.18.0.1", dev: "ul0", learning: false });
    expect(reads().link("tt0abc")).toMatchObject({ master: "tartan0", hairpin: true, up: true });
    expect(reads().link("nosuch")).toBeUndefined();
  });

  test("addresses: grouped by link, IPv6 link-local left out; one device's only", () => {
    expect(reads().addrs()).toEqual(ip.addrs as never);
    expect(reads().addrs("ul0")).toEqual(ip.addrs.filter((a) => a.dev === "ul0") as never);
    expect(() => reads().addrs("nosuch")).toThrow(/nosuch/);
  });

  test("routes: main table, unicast and blackhole, onlink, proto, metric (v4 and v6)", () => {
    expect(reads().routes(4)).toEqual(ip.routes4 as never);
    expect(reads().routes(6)).toEqual(ip.routes6 as never);
    expect(
      reads()
        .routes(4)
        .find((r) => r.dst === "10.244.1.0/26"),
    ).toEqual({
      dst: "10.244.1.0/26",
      family: 4,
      dev: "tartan.vxlan",
      via: "10.244.1.0",
      scope: "global",
      proto: 201,
      table: 254,
      onlink: true,
    });
  });

  test("permanent neighbours, and a device's static FDB entries (AF_BRIDGE dump, by ifindex)", () => {
    expect(reads().neighbours()).toEqual(ip.neighbours as never);
    expect(reads().fdb("tartan.vxlan")).toEqual(ip.fdb as never);
    expect(ip.fdb).toEqual([{ dev: "tartan.vxlan", mac: "02:bb:00:00:00:01", dst: "198.18.1.1" }]);
    // The bridge's own local and multicast entries are in the dump but not permanent with a dst.
    expect(reads().fdb("tartan0")).toEqual([]);
    expect(reads().fdb("nosuch")).toEqual([]);
  });
});

/** An OpContext whose every device has index 7 (0x07). */
const ctx = { dev: () => 7, lookup: () => 7 } as unknown as OpContext;
const hexOf = (m: NlMessage) => Buffer.from(m.done(0x01020304)).toString("hex");

describe("VXLAN and FDB requests, byte for byte", () => {
  test("vxlan-add: RTM_NEWLINK create|excl, name, mtu, mac, kind vxlan with id, local, link, port (big endian), learning", () => {
    const op: KernelOp = {
      op: "vxlan-add",
      name: "vx0",
      vni: 4096,
      dstport: 4789,
      local: "198.18.0.1",
      dev: "ul0",
      mtu: 1450,
      mac: "02:aa:00:00:00:01",
    };
    expect(hexOf(vxlanMessage(op, ctx))).toBe(
      [
        "78000000", // length 120
        "1000", // RTM_NEWLINK
        "0506", // REQUEST|ACK|EXCL|CREATE
        "04030201", // seq
        "00000000", // pid
        "00000000000000000000000000000000", // ifinfomsg
        "0800 0300 76783000", // IFLA_IFNAME "vx0\0"
        "0800 0400 aa050000", // IFLA_MTU 1450
        "0a00 0100 02aa00000001 0000", // IFLA_ADDRESS
        "3c00 1200", // IFLA_LINKINFO (60 bytes)
        "0a00 0100 7678 6c616e00 0000", // IFLA_INFO_KIND "vxlan\0"
        "2c00 0200", // IFLA_INFO_DATA (44 bytes)
        "0800 0100 00100000", // IFLA_VXLAN_ID 4096
        "0800 0400 c6120001", // IFLA_VXLAN_LOCAL 198.18.0.1
        "0800 0300 07000000", // IFLA_VXLAN_LINK 7
        "0600 0f00 12b5 0000", // IFLA_VXLAN_PORT 4789, network order
        "0500 0700 00 000000", // IFLA_VXLAN_LEARNING 0
      ]
        .join("")
        .replaceAll(" ", ""),
    );
  });

  test("vxlan-add with an IPv6 local and learning on uses IFLA_VXLAN_LOCAL6 and leaves out the link", () => {
    const m = vxlanMessage(
      { op: "vxlan-add", name: "vx6", vni: 1, dstport: 8472, local: "fd00::1", learning: true },
      ctx,
    );
    const v = new DataView(m.done(1).buffer);
    const info = nlAttrs(nlAttrs(v, 32, v.getUint32(0, true)).get(RTNL.IFLA_LINKINFO)!, 0).get(
      RTNL.IFLA_INFO_DATA,
    )!;
    const data = nlAttrs(info, 0);
    expect([...data.keys()]).toEqual([
      RTNL.IFLA_VXLAN_ID,
      RTNL.IFLA_VXLAN_LOCAL6,
      RTNL.IFLA_VXLAN_PORT,
      RTNL.IFLA_VXLAN_LEARNING,
    ]);
    expect(
      Buffer.from(
        new Uint8Array(
          data.get(RTNL.IFLA_VXLAN_LOCAL6)!.buffer,
          data.get(RTNL.IFLA_VXLAN_LOCAL6)!.byteOffset,
          16,
        ),
      ).toString("hex"),
    ).toBe("fd000000000000000000000000000001");
    expect(data.get(RTNL.IFLA_VXLAN_PORT)!.getUint16(0, false)).toBe(8472);
    expect(data.get(RTNL.IFLA_VXLAN_LEARNING)!.getUint8(0)).toBe(1);
  });

  test("fdb-replace / fdb-del: AF_BRIDGE ndmsg, NOARP(+PERMANENT), NTF_SELF, lladdr then dst", () => {
    const entry = { dev: "vx0", mac: "02:BB:00:00:00:01", dst: "198.18.1.1" };
    expect(hexOf(fdbMessage({ op: "fdb-replace", ...entry }, ctx))).toBe(
      [
        "30000000 1c00 0505 04030201 00000000", // RTM_NEWNEIGH, REQUEST|ACK|REPLACE|CREATE
        "07 000000 07000000 c000 02 00", // AF_BRIDGE, ifindex 7, NOARP|PERMANENT, NTF_SELF
        "0a00 0200 02bb00000001 0000", // NDA_LLADDR
        "0800 0100 c6120101", // NDA_DST 198.18.1.1
      ]
        .join("")
        .replaceAll(" ", ""),
    );
    expect(hexOf(fdbMessage({ op: "fdb-del", ...entry }, ctx))).toBe(
      [
        "30000000 1d00 0500 04030201 00000000", // RTM_DELNEIGH, REQUEST|ACK
        "07 000000 07000000 4000 02 00", // NOARP only
        "0a00 0200 02bb00000001 0000",
        "0800 0100 c6120101",
      ]
        .join("")
        .replaceAll(" ", ""),
    );
  });
});
