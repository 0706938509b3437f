import type { Libc } from "./libc.ts";
import { NetlinkOpFailure } from "./netlink-op-failure.ts";
import type { NetlinkSocket } from "./netlink-socket.ts";
import { NlMessage } from "./nl-message.ts";
import { RTNL } from "./rtnl.ts";

const ENODEV = 19;

/**
 * What building an op's messages needs: interface indexes looked up by name over the namespace's
 * own socket (if_nametoindex would answer for the thread's namespace, not the target's), and
 * namespace file descriptors, closed once the op is done.
 */
export class OpContext {
  private readonly fds: number[] = [];

  /**
   * `indexes` remembers looked-up indexes across the ops of one apply (the agent's 1000 routes
   * through one device would otherwise cost 1000 extra round trips); the driver clears it after
   * every op that adds or deletes links. Only found names are kept, so a missing device is
   * always asked for again.
   */
  constructor(
    private readonly c: Libc,
    private readonly sock: NetlinkSocket,
    private readonly indexes: Map<string, number> = new Map(),
  ) {}

  /** The index of a link, or undefined when there is none of that name. */
  lookup(name: string): number | undefined {
    const known = this.indexes.get(name);
    if (known !== undefined) return known;
    const found = this.ask(name);
    if (found !== undefined) this.indexes.set(name, found);
    return found;
  }

  private ask(name: string): number | undefined {
    const msg = new NlMessage(RTNL.RTM_GETLINK, RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK)
      .header(16, () => {})
      .str(RTNL.IFLA_IFNAME, name)
      .u32(RTNL.IFLA_EXT_MASK, RTNL.RTEXT_FILTER_SKIP_STATS);
    const r = this.sock.talk(msg);
    if (r.error === ENODEV) return undefined;
    if (r.error !== 0) throw new NetlinkOpFailure(r.words);
    const reply = r.messages.find((m) => m.getUint16(4, true) === RTNL.RTM_NEWLINK);
    if (!reply) throw new Error(`netlink: no answer to RTM_GETLINK ${name}`);
    return reply.getInt32(RTNL.NLMSG_HDRLEN + 4, true);
  }

  /** The index of a device an op acts on; missing reads like iproute2's own message. */
  dev(name: string): number {
    const i = this.lookup(name);
    if (i === undefined) throw new NetlinkOpFailure(`Cannot find device "${name}"`);
    return i;
  }

  /** An open fd of a namespace path for IFLA_NET_NS_FD; a bad path reads like iproute2's. */
  netnsFd(path: string): number {
    const fd = this.c.open(new TextEncoder().encode(`${path}\0`), RTNL.O_RDONLY | RTNL.O_CLOEXEC);
    if (fd < 0) throw new NetlinkOpFailure(`argument "${path}" is wrong: Invalid "netns" value`);
    this.fds.push(fd);
    return fd;
  }

  close(): void {
    for (const fd of this.fds.splice(0)) this.c.close(fd);
  }
}
