import type { AddrInfo, FdbInfo, LinkInfo, NeighInfo, RouteInfo } from "../../kernel-op.ts";
import { parseAddrMessage } from "./addr-info-message.ts";
import { parseLinkMessage } from "./link-info-message.ts";
import { parseNeighMessage } from "./neigh-info-message.ts";
import type { NetlinkSocket } from "./netlink-socket.ts";
import { NlMessage } from "./nl-message.ts";
import { parseRouteMessage } from "./route-info-message.ts";
import { RTNL } from "./rtnl.ts";

const ENODEV = 19;
/** In a dump's messages: the table changed while it was read, so the dump may be inconsistent. */
const NLM_F_DUMP_INTR = 0x10;

/** A read the kernel refused; the driver turns it into kernel-read-failed. */
export class NetlinkReadFailure extends Error {
  override name = "NetlinkReadFailure";
}

/**
 * The Dataplane reads over one namespace's rtnetlink socket: dumps (NLM_F_DUMP) parsed into the
 * same shapes, filters and order as the iproute2 parsers give, link indexes named from a link
 * dump or lookup. FDB entries are RTM_GETNEIGH dumps of family AF_BRIDGE, kept for one device.
 */
export class NetlinkReads {
  constructor(private readonly sock: NetlinkSocket) {}

  /** All reply messages of a dump; retried (a few times) when the kernel says it was interrupted. */
  private dump(
    type: number,
    headerSize: number,
    fill: (v: DataView) => void,
    attrs?: (m: NlMessage) => void,
  ) {
    for (let attempt = 0; ; attempt++) {
      const m = new NlMessage(type, RTNL.NLM_F_REQUEST | RTNL.NLM_F_DUMP).header(headerSize, fill);
      attrs?.(m);
      const r = this.sock.talk(m);
      if (r.error !== 0) throw new NetlinkReadFailure(r.words);
      const interrupted = r.messages.some((v) => (v.getUint16(6, true) & NLM_F_DUMP_INTR) !== 0);
      if (!interrupted || attempt >= 3) return r.messages.filter((v) => v.getUint16(4, true) === type - 2);
    }
  }

  private linkDump(): LinkInfo[] {
    const parsed = this.dump(
      RTNL.RTM_GETLINK,
      16,
      () => {},
      (m) => m.u32(RTNL.IFLA_EXT_MASK, RTNL.RTEXT_FILTER_SKIP_STATS),
    ).map(parseLinkMessage);
    const names = new Map(parsed.map((p) => [p.link.index, p.link.name]));
    for (const p of parsed) this.name(p, (i) => names.get(i));
    return parsed.map((p) => p.link);
  }

  /** Names a parsed link's master and underlay the way ip does ("if<N>" when not found). */
  private name(p: ReturnType<typeof parseLinkMessage>, byIndex: (i: number) => string | undefined) {
    if (p.masterIndex !== undefined) p.link.master = byIndex(p.masterIndex) ?? `if${p.masterIndex}`;
    if (p.vxlanLinkIndex !== undefined && p.link.vxlan)
      p.link.vxlan.dev = byIndex(p.vxlanLinkIndex) ?? `if${p.vxlanLinkIndex}`;
  }

  links(): LinkInfo[] {
    return this.linkDump();
  }

  /** One link by name (one request, plus one per index to name), or undefined when there is none. */
  link(name: string): LinkInfo | undefined {
    const p = this.getLink(name, 0);
    if (!p) return undefined;
    this.name(p, (i) => this.getLink(undefined, i)?.link.name);
    return p.link;
  }

  private getLink(name: string | undefined, index: number) {
    const m = new NlMessage(RTNL.RTM_GETLINK, RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK).header(16, (v) =>
      v.setInt32(4, index, true),
    );
    if (name !== undefined) m.str(RTNL.IFLA_IFNAME, name);
    m.u32(RTNL.IFLA_EXT_MASK, RTNL.RTEXT_FILTER_SKIP_STATS);
    const r = this.sock.talk(m);
    if (r.error === ENODEV) return undefined;
    if (r.error !== 0) throw new NetlinkReadFailure(r.words);
    const reply = r.messages.find((v) => v.getUint16(4, true) === RTNL.RTM_NEWLINK);
    return reply ? parseLinkMessage(reply) : undefined;
  }

  /** Addresses in ip's order: grouped by link (ascending index), each link's in dump order. */
  addrs(dev?: string): AddrInfo[] {
    const links = this.linkDump();
    const names = new Map(links.map((l) => [l.index, l.name]));
    const want = dev === undefined ? undefined : links.find((l) => l.name === dev)?.index;
    if (dev !== undefined && want === undefined)
      throw new NetlinkReadFailure(`Device "${dev}" does not exist`);
    const rows = this.dump(RTNL.RTM_GETADDR, 8, () => {})
      .map(parseAddrMessage)
      .filter((r) => r !== undefined && (want === undefined || r.index === want)) as {
      index: number;
      addr: Omit<AddrInfo, "dev">;
    }[];
    const order = new Map(links.map((l, i) => [l.index, i]));
    rows.sort((a, b) => (order.get(a.index) ?? 0) - (order.get(b.index) ?? 0));
    return rows.map((r) => ({ dev: names.get(r.index) ?? `if${r.index}`, ...r.addr }));
  }

  routes(family: 4 | 6): RouteInfo[] {
    const rows = this.dump(RTNL.RTM_GETROUTE, 12, (v) =>
      v.setUint8(0, family === 4 ? RTNL.AF_INET : RTNL.AF_INET6),
    )
      .map(parseRouteMessage)
      .filter((r) => r !== undefined);
    if (rows.length === 0) return [];
    const names = this.indexNames();
    return rows.map((r) => {
      if (r.oif !== undefined) r.route.dev = names.get(r.oif) ?? `if${r.oif}`;
      return r.route;
    });
  }

  /** Permanent ARP/NDP entries (the ones tartan writes). */
  neighbours(): NeighInfo[] {
    const rows = this.dump(RTNL.RTM_GETNEIGH, 12, () => {})
      .map(parseNeighMessage)
      .filter(
        (n) =>
          (n.family === RTNL.AF_INET || n.family === RTNL.AF_INET6) &&
          (n.state & RTNL.NUD_PERMANENT) !== 0 &&
          n.dst !== undefined &&
          n.mac !== undefined,
      );
    if (rows.length === 0) return [];
    const names = this.indexNames();
    return rows.map((n) => ({ dev: names.get(n.index) ?? `if${n.index}`, ip: n.dst!, mac: n.mac! }));
  }

  /** Permanent FDB entries with a remote VTEP of one device; [] when the device does not exist. */
  fdb(dev: string): FdbInfo[] {
    const p = this.getLink(dev, 0);
    if (!p) return [];
    return this.dump(RTNL.RTM_GETNEIGH, 12, (v) => v.setUint8(0, RTNL.AF_BRIDGE))
      .map(parseNeighMessage)
      .filter(
        (n) =>
          n.index === p.link.index &&
          (n.state & RTNL.NUD_PERMANENT) !== 0 &&
          n.dst !== undefined &&
          n.mac !== undefined,
      )
      .map((n) => ({ dev, mac: n.mac!, dst: n.dst! }));
  }

  private indexNames(): Map<number, string> {
    return new Map(this.linkDump().map((l) => [l.index, l.name]));
  }
}
