import { TartanError } from "../../errors/tartan-error.ts";
import type { ApplyOptions, Dataplane, NetnsRef } from "../dataplane.ts";
import type { AddrInfo, FdbInfo, KernelOp, LinkInfo, NeighInfo, RouteInfo } from "../kernel-op.ts";
import { kernelOpError } from "../kernel-op-error.ts";
import { validateKernelOp } from "../validate-kernel-op.ts";
import { readHostSysctl, writeHostSysctl } from "./host-sysctl.ts";
import { type Libc, libc } from "./netlink/libc.ts";
import { NetlinkOpFailure } from "./netlink/netlink-op-failure.ts";
import { type NetlinkOp, netlinkOpMessages } from "./netlink/netlink-op-messages.ts";
import { NetlinkReads } from "./netlink/netlink-reads.ts";
import { NetlinkSocket, type NlReply } from "./netlink/netlink-socket.ts";
import type { NlMessage } from "./netlink/nl-message.ts";
import { OpContext } from "./netlink/op-context.ts";

/**
 * The op kinds spoken natively and, for each, every field the encoding knows. An op carrying any
 * other field (one added to KernelOp after this table) goes to iproute2 rather than being sent
 * without it.
 */
const NATIVE: Readonly<Record<NetlinkOp["op"], ReadonlySet<string>>> = {
  "veth-add": new Set(["op", "name", "peer", "peerNetns", "mtu", "mac", "peerMac"]),
  "bridge-add": new Set(["op", "name", "mtu", "mac"]),
  "link-set": new Set(["op", "name", "up", "mtu", "master", "hairpin"]),
  "link-del": new Set(["op", "name"]),
  "addr-add": new Set(["op", "dev", "cidr", "replace", "nodad"]),
  "addr-del": new Set(["op", "dev", "cidr"]),
  "route-add": new Set([
    "op",
    "dst",
    "family",
    "type",
    "dev",
    "via",
    "onlink",
    "scope",
    "proto",
    "metric",
    "mtu",
    "table",
    "src",
    "replace",
    "append",
  ]),
  "route-del": new Set(["op", "dst", "family", "type", "dev", "via", "proto", "table"]),
  "neigh-replace": new Set(["op", "dev", "ip", "mac"]),
  "neigh-del": new Set(["op", "dev", "ip"]),
  "vxlan-add": new Set(["op", "name", "vni", "dstport", "local", "dev", "learning", "mtu", "mac"]),
  "fdb-replace": new Set(["op", "dev", "mac", "dst"]),
  "fdb-del": new Set(["op", "dev", "mac", "dst"]),
};

/**
 * The socket calls block the thread (bun:ffi is synchronous), unlike the iproute2 driver's
 * spawns, during which the agent kept taking in watch events. Without a yield, an agent trigger
 * started its apply right after the first watch message of a burst and the rest waited behind
 * it, one apply each: measured 33 applies for a 1000-node burst where iproute2 needed 4. So
 * every apply and read first lets the I/O already received run (setImmediate: after the poll
 * phase), and long applies yield every YIELD_EVERY ops; a yield costs microseconds.
 */
const yieldToEvents = () => new Promise<void>((r) => setImmediate(r));
const YIELD_EVERY = 256;

/** Ops after which interface indexes looked up earlier in the apply may be stale. */
const CHANGES_LINKS = new Set<KernelOp["op"]>(["veth-add", "bridge-add", "vxlan-add", "link-del"]);

/**
 * The ops an independent apply sends several to a datagram: one request each, no link created or
 * deleted (interface indexes stay valid), nothing opened that must be closed after the op.
 */
const BATCHABLE = new Set<KernelOp["op"]>([
  "route-add",
  "route-del",
  "neigh-replace",
  "neigh-del",
  "fdb-replace",
  "fdb-del",
]);
/** Requests per datagram: ~5 KB of routes, well inside the socket buffers. */
const BATCH_MAX = 64;

/** A KernelOp failure in the words the iproute2 driver would use. */
function opError(netns: NetnsRef, op: KernelOp, i: number, n: number, e: unknown) {
  // Past the first request a fallback could apply ops twice: socket trouble fails the op.
  const words = e instanceof NetlinkOpFailure ? e.words : `netlink: ${e instanceof Error ? e.message : e}`;
  return kernelOpError(netns, op, i, n, words);
}

/** Requests of an independent apply waiting to go out in one datagram, with the ops they belong to. */
class PendingBatch {
  private msgs: NlMessage[] = [];
  private owners: { op: KernelOp; i: number }[] = [];

  constructor(
    private readonly netns: NetnsRef,
    private readonly n: number,
  ) {}

  get size(): number {
    return this.msgs.length;
  }

  add(op: KernelOp, i: number, msgs: NlMessage[]): void {
    for (const m of msgs) {
      this.msgs.push(m);
      this.owners.push({ op, i });
    }
  }

  /** Sends what is pending; throws the first refused op's error (later ones were run too). */
  flush(sock: NetlinkSocket, sent: { requests: number; datagrams: number }): void {
    if (this.msgs.length === 0) return;
    const msgs = this.msgs;
    const owners = this.owners;
    this.msgs = [];
    this.owners = [];
    sent.requests += msgs.length;
    sent.datagrams++;
    let replies: NlReply[];
    try {
      replies = sock.talkMany(msgs);
    } catch (e) {
      const o = owners[0]!;
      throw opError(this.netns, o.op, o.i, this.n, e);
    }
    const bad = replies.findIndex((r) => r.error !== 0);
    if (bad < 0) return;
    const o = owners[bad]!;
    throw kernelOpError(this.netns, o.op, o.i, this.n, replies[bad]!.words);
  }
}

function isNative(op: KernelOp): op is NetlinkOp {
  const fields = (NATIVE as Record<string, ReadonlySet<string> | undefined>)[op.op];
  if (!fields) return false;
  const o = op as unknown as Record<string, unknown>;
  for (const k in o) if (o[k] !== undefined && !fields.has(k)) return false;
  return true;
}

/**
 * The Dataplane whose apply() speaks rtnetlink itself (libc through bun:ffi), with no process
 * spawn: the CNI ADD's two `ip -batch` runs cost ~2 ms each, a netlink round trip ~0.05 ms.
 * Same semantics as LinuxDataplane, held to it by the shared contract: ops in order, one ack
 * read per request, stop at the first refusal with the same TartanError and kernel words.
 *
 * Every KernelOp kind is spoken natively (the agent's VXLAN device, FDB, neighbour and route ops
 * included), and reads are rtnetlink dumps. Whatever it does not speak goes, as a whole apply, to
 * LinuxDataplane (iproute2): an op with a field it does not know (one added to KernelOp later),
 * libc that cannot be loaded, or a namespace that cannot be entered (so iproute2 reports it in
 * its own words); reads likewise.
 */
export class NetlinkDataplane implements Dataplane {
  /** How many applies ran natively and how many went to iproute2 (tests and benchmarks check it). */
  readonly applied = { netlink: 0, iproute2: 0 };
  /** Likewise for reads. */
  readonly reads = { netlink: 0, iproute2: 0 };

  constructor(
    private fallbackDriver?: Dataplane,
    private readonly loadLibc: () => Libc | undefined = libc,
  ) {}

  /**
   * The iproute2 driver, loaded on first need: the plugin's ADD/DEL never need it (measured: a
   * static import of it adds ~1.2–1.9 ms to every start-up, a dynamic one that does not run ~0.1).
   */
  private async iproute2(): Promise<Dataplane> {
    if (!this.fallbackDriver) {
      const { LinuxDataplane } = await import("./linux-dataplane.ts");
      this.fallbackDriver ??= new LinuxDataplane();
    }
    return this.fallbackDriver;
  }

  async apply(netns: NetnsRef, ops: readonly KernelOp[], opts: ApplyOptions = {}): Promise<void> {
    if (ops.length === 0) return;
    for (const op of ops) validateKernelOp(op);
    await yieldToEvents();
    const c = this.loadLibc();
    let sock: NetlinkSocket | undefined;
    if (c && ops.every(isNative)) {
      try {
        sock = NetlinkSocket.open(c, netns);
      } catch {
        sock = undefined;
      }
    }
    if (!c || !sock) {
      this.applied.iproute2++;
      return (await this.iproute2()).apply(netns, ops);
    }
    this.applied.netlink++;
    const indexes = new Map<string, number>();
    // Independent entry ops (routes, neighbours, FDB) go BATCH_MAX to a datagram; everything
    // else, and every op of a caller that relies on stopping at the first refusal, one by one.
    const batch = opts.independent ? new PendingBatch(netns, ops.length) : undefined;
    try {
      for (const [i, op] of ops.entries()) {
        if (i > 0 && i % YIELD_EVERY === 0) {
          batch?.flush(sock, this.sent);
          await yieldToEvents();
          indexes.clear(); // another apply may have changed links meanwhile
        }
        const ctx = new OpContext(c, sock, indexes);
        if (batch && BATCHABLE.has(op.op)) {
          let msgs: NlMessage[];
          try {
            msgs = netlinkOpMessages(op as NetlinkOp, ctx);
          } catch (e) {
            batch.flush(sock, this.sent); // an earlier op's refusal comes first
            throw opError(netns, op, i, ops.length, e);
          }
          batch.add(op, i, msgs);
          if (batch.size >= BATCH_MAX) batch.flush(sock, this.sent);
          continue;
        }
        batch?.flush(sock, this.sent);
        this.applyOne(ctx, sock, netns, op as NetlinkOp, i, ops.length);
        if (CHANGES_LINKS.has(op.op)) indexes.clear();
      }
      batch?.flush(sock, this.sent);
    } finally {
      sock.close();
    }
  }

  /** Requests and datagrams sent by applies (tests and benchmarks check the batching). */
  readonly sent = { requests: 0, datagrams: 0 };

  /**
   * Sends an op's requests one by one, each acknowledged before the next: 1000 remote nodes'
   * 5000 ops took 130-400 ms this way on a loaded 2-core machine, about what one `ip -batch`
   * run of them takes (ip too waits for each ack); the agent's reconciler batches (ApplyOptions).
   */
  private applyOne(
    ctx: OpContext,
    sock: NetlinkSocket,
    netns: NetnsRef,
    op: NetlinkOp,
    i: number,
    n: number,
  ) {
    try {
      for (const msg of netlinkOpMessages(op, ctx)) {
        this.sent.requests++;
        this.sent.datagrams++;
        const reply = sock.talk(msg);
        if (reply.error !== 0) throw new NetlinkOpFailure(reply.words);
      }
    } catch (e) {
      throw opError(netns, op, i, n, e);
    } finally {
      ctx.close();
    }
  }

  /**
   * Runs a read over a netlink socket in the namespace, or through iproute2 where libc or the
   * namespace cannot be had (so a missing namespace is reported in iproute2's words).
   */
  private async read<T>(
    netns: NetnsRef,
    what: string,
    native: (r: NetlinkReads) => T,
    fallback: (d: Dataplane) => Promise<T>,
  ) {
    await yieldToEvents();
    const c = this.loadLibc();
    let sock: NetlinkSocket | undefined;
    if (c) {
      try {
        sock = NetlinkSocket.open(c, netns);
      } catch {
        sock = undefined;
      }
    }
    if (!sock) {
      this.reads.iproute2++;
      return fallback(await this.iproute2());
    }
    this.reads.netlink++;
    try {
      return native(new NetlinkReads(sock));
    } catch (e) {
      const where = netns === null ? "the host namespace" : `netns ${netns}`;
      throw new TartanError(
        "kernel-read-failed",
        `reading ${what} of ${where} over netlink: ${e instanceof Error ? e.message : e}`,
        "check that the namespace and device exist (ip -d link, ip addr, ip route, bridge fdb show there); the agent retries on its next resync",
      );
    } finally {
      sock.close();
    }
  }

  async links(netns: NetnsRef): Promise<LinkInfo[]> {
    return this.read(
      netns,
      "links",
      (r) => r.links(),
      (d) => d.links(netns),
    );
  }

  async link(netns: NetnsRef, name: string): Promise<LinkInfo | undefined> {
    return this.read(
      netns,
      `link ${name}`,
      (r) => r.link(name),
      (d) => d.link(netns, name),
    );
  }

  async addrs(netns: NetnsRef, dev?: string): Promise<AddrInfo[]> {
    return this.read(
      netns,
      `addresses${dev === undefined ? "" : ` of ${dev}`}`,
      (r) => r.addrs(dev),
      (d) => d.addrs(netns, dev),
    );
  }

  async routes(netns: NetnsRef, family: 4 | 6): Promise<RouteInfo[]> {
    return this.read(
      netns,
      `IPv${family} routes`,
      (r) => r.routes(family),
      (d) => d.routes(netns, family),
    );
  }

  async neighbours(netns: NetnsRef): Promise<NeighInfo[]> {
    return this.read(
      netns,
      "neighbours",
      (r) => r.neighbours(),
      (d) => d.neighbours(netns),
    );
  }

  async fdb(netns: NetnsRef, dev: string): Promise<FdbInfo[]> {
    return this.read(
      netns,
      `the FDB of ${dev}`,
      (r) => r.fdb(dev),
      (d) => d.fdb(netns, dev),
    );
  }

  // The host's own sysctls are file reads and writes: no need for the iproute2 driver.
  async sysctlGet(netns: NetnsRef, key: string): Promise<string | undefined> {
    if (netns === null && !this.fallbackDriver) return readHostSysctl(key);
    return (await this.iproute2()).sysctlGet(netns, key);
  }

  async sysctlSet(netns: NetnsRef, key: string, value: string): Promise<void> {
    if (netns === null && !this.fallbackDriver) return writeHostSysctl(key, value);
    return (await this.iproute2()).sysctlSet(netns, key, value);
  }

  async netnsExists(path: string): Promise<boolean> {
    return (await this.iproute2()).netnsExists(path);
  }
}
