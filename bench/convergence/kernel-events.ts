// The bench's view of a node's kernel by rtnetlink notifications instead of repeated dumps: a
// NETLINK_ROUTE socket in the node's namespace joined to the neighbour (FDB entries included:
// AF_BRIDGE) and IPv4 route groups keeps the set of the fakes' routes, neighbours and FDB entries
// present, updated per notification. Dumping 1000 routes + 1000 neighbours + 1000 FDB entries
// every few ms, paced to half a core, took ~0.4 s of CPU per 3-trial run (CPU profile of
// remote-nodes.ts) from the two cores the agents being measured share; a notification costs a
// few µs. If the socket overflows (ENOBUFS: notifications lost), `lost` is set and the caller
// falls back to dumps.
import { inNetns } from "../../src/dataplane/linux/netlink/in-netns.ts";
import { libc } from "../../src/dataplane/linux/netlink/libc.ts";
import { NlMessage } from "../../src/dataplane/linux/netlink/nl-message.ts";
import { RTNL } from "../../src/dataplane/linux/netlink/rtnl.ts";

const NETLINK_ADD_MEMBERSHIP = 1;
const SO_RCVBUFFORCE = 33;
const RTNLGRP_NEIGH = 3;
const RTNLGRP_IPV4_ROUTE = 7;
const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const EINTR = 4;

const int = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
};
const hex2 = (b: number) => b.toString(16).padStart(2, "0");

export interface Wanted {
  blocks: Set<string>;
  addrs: Set<string>;
  macs: Set<string>;
}

export class KernelEvents {
  readonly routes = new Set<string>();
  readonly neigh = new Set<string>();
  readonly fdb = new Set<string>();
  lost = false;
  private readonly rx = new Uint8Array(1 << 20);
  private readonly c = libc()!;
  private readonly fd: number;

  /** Joins the groups; call before the dump that seeds the sets, so nothing falls between. */
  constructor(
    netnsPath: string,
    private readonly want: Wanted,
  ) {
    const c = this.c;
    this.fd = inNetns(c, netnsPath, () => c.socket(RTNL.AF_NETLINK, RTNL.SOCK_RAW | RTNL.SOCK_CLOEXEC, 0));
    if (this.fd < 0) throw new Error(`socket: ${c.strerror(c.errno())}`);
    c.setsockopt(this.fd, RTNL.SOL_SOCKET, SO_RCVBUFFORCE, int(64 << 20), 4);
    for (const g of [RTNLGRP_NEIGH, RTNLGRP_IPV4_ROUTE])
      if (c.setsockopt(this.fd, RTNL.SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, int(g), 4) !== 0)
        throw new Error(`NETLINK_ADD_MEMBERSHIP ${g}: ${c.strerror(c.errno())}`);
    // The kernel skips a listener whose port id equals the notification's (0 when the writer did
    // not ask for an echo): an unbound socket has 0. Sending anything binds it (autobind).
    const probe = new NlMessage(RTNL.RTM_GETLINK, RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK)
      .header(16, (h) => h.setInt32(4, 1, true))
      .done(1);
    if (c.send(this.fd, probe, probe.length, 0) !== probe.length)
      throw new Error(`send: ${c.strerror(c.errno())}`);
  }

  /** Seeds the sets from a dump taken after the constructor (keys as the dump reads them). */
  seed(routes: string[], neigh: string[], fdb: string[]): void {
    for (const r of routes) if (this.want.blocks.has(r)) this.routes.add(r);
    for (const n of neigh) if (this.want.addrs.has(n)) this.neigh.add(n);
    for (const f of fdb) if (this.want.macs.has(f)) this.fdb.add(f);
  }

  /** Reads every notification queued so far. */
  drain(): void {
    for (;;) {
      const n = this.c.recv(this.fd, this.rx, this.rx.length, MSG_DONTWAIT);
      if (n < 0) {
        const e = this.c.errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return;
        this.lost = true; // ENOBUFS: the kernel dropped notifications
        return;
      }
      const v = new DataView(this.rx.buffer, 0, n);
      for (let off = 0; off + 16 <= n; ) {
        const len = v.getUint32(off, true);
        if (len < 16 || off + len > n) break;
        this.message(v, off, len);
        off += (len + 3) & ~3;
      }
    }
  }

  private message(v: DataView, off: number, len: number): void {
    const type = v.getUint16(off + 4, true);
    const end = off + len;
    if (type === RTNL.RTM_NEWROUTE || type === 25 /* RTM_DELROUTE */) {
      if (v.getUint8(off + 16) !== RTNL.AF_INET) return;
      const prefix = v.getUint8(off + 17);
      for (let a = off + 28; a + 4 <= end; ) {
        const alen = v.getUint16(a, true);
        if (alen < 4) break;
        if ((v.getUint16(a + 2, true) & 0x3fff) === RTNL.RTA_DST && alen === 8) {
          const key = `${v.getUint8(a + 4)}.${v.getUint8(a + 5)}.${v.getUint8(a + 6)}.${v.getUint8(a + 7)}/${prefix}`;
          if (this.want.blocks.has(key)) {
            if (type === RTNL.RTM_NEWROUTE) this.routes.add(key);
            else this.routes.delete(key);
          }
        }
        a += (alen + 3) & ~3;
      }
      return;
    }
    if (type !== RTNL.RTM_NEWNEIGH && type !== RTNL.RTM_DELNEIGH) return;
    const family = v.getUint8(off + 16);
    for (let a = off + 28; a + 4 <= end; ) {
      const alen = v.getUint16(a, true);
      if (alen < 4) break;
      const at = v.getUint16(a + 2, true) & 0x3fff;
      if (family === RTNL.AF_INET && at === RTNL.NDA_DST && alen === 8) {
        const key = `${v.getUint8(a + 4)}.${v.getUint8(a + 5)}.${v.getUint8(a + 6)}.${v.getUint8(a + 7)}`;
        if (this.want.addrs.has(key)) {
          if (type === RTNL.RTM_NEWNEIGH) this.neigh.add(key);
          else this.neigh.delete(key);
        }
      } else if (family === RTNL.AF_BRIDGE && at === RTNL.NDA_LLADDR && alen === 10) {
        let key = hex2(v.getUint8(a + 4));
        for (let i = 1; i < 6; i++) key += `:${hex2(v.getUint8(a + 4 + i))}`;
        if (this.want.macs.has(key)) {
          if (type === RTNL.RTM_NEWNEIGH) this.fdb.add(key);
          else this.fdb.delete(key);
        }
      }
      a += (alen + 3) & ~3;
    }
  }

  close(): void {
    this.c.close(this.fd);
  }
}
