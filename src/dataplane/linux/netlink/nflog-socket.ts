import type { DropLogBatch, DropLogSource } from "../../drop-log-source.ts";
import { type Libc, libc } from "./libc.ts";
import { NFLOG, NFLOG_CONFIG_TYPE } from "./nflog.ts";
import { parseNflogDatagram } from "./nflog-message.ts";
import { NlMessage } from "./nl-message.ts";
import { RTNL } from "./rtnl.ts";

/** Bytes of each packet copied to us: IPv6 with a few extension headers plus the ports. */
const COPY_RANGE = 128;
const EPERM = 1;
/** Datagrams read per poll at most: a flood waits for the next poll instead of holding the loop. */
const MAX_READS_PER_POLL = 512;

const be32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
};

/**
 * An nfnetlink_log socket bound to one log group in the calling thread's network namespace (the
 * agent's node namespace: in the lab each node's agent has its own): packets the nftables rules
 * log with `log group N` arrive here, one message each (queue threshold 1: no batching delay), the
 * first COPY_RANGE bytes from the network header on. Reads never block (MSG_DONTWAIT); the agent
 * polls. Closing the socket unbinds the group (the kernel drops the instance with its owner).
 */
export class NflogSocket implements DropLogSource {
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  private readonly rx = new Uint8Array(65536);
  private closed = false;

  private constructor(
    private readonly c: Libc,
    private readonly fd: number,
    readonly group: number,
  ) {}

  /** Opens and binds; throws with the kernel's reason (another process holding the group: EPERM). */
  static open(group: number): NflogSocket {
    const c = libc();
    if (!c) throw new Error("nfnetlink_log needs libc through bun:ffi (Linux, glibc)");
    const fd = c.socket(RTNL.AF_NETLINK, RTNL.SOCK_RAW | RTNL.SOCK_CLOEXEC, NFLOG.NETLINK_NETFILTER);
    if (fd < 0) throw new Error(`socket(AF_NETLINK, NETLINK_NETFILTER): ${c.strerror(c.errno())}`);
    // Config answers come at once; the timeout only guards the blocking reads of open().
    const tv = new Uint8Array(16);
    new DataView(tv.buffer).setBigInt64(0, 5n, true);
    c.setsockopt(fd, RTNL.SOL_SOCKET, RTNL.SO_RCVTIMEO, tv, 16);
    const s = new NflogSocket(c, fd, group);
    try {
      s.configure();
    } catch (e) {
      c.close(fd);
      throw e;
    }
    return s;
  }

  /** One config request: bind the group, copy packets (COPY_RANGE bytes), send each at once. */
  private configure(): void {
    const mode = new Uint8Array(6);
    new DataView(mode.buffer).setUint32(0, COPY_RANGE, false);
    mode[4] = NFLOG.NFULNL_COPY_PACKET;
    const msg = new NlMessage(NFLOG_CONFIG_TYPE, RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK)
      .header(4, (v) => {
        v.setUint8(0, RTNL.AF_UNSPEC);
        v.setUint8(1, NFLOG.NFNETLINK_V0);
        v.setUint16(2, this.group, false);
      })
      .u8(NFLOG.NFULA_CFG_CMD, NFLOG.NFULNL_CFG_CMD_BIND)
      .bytes(NFLOG.NFULA_CFG_MODE, mode)
      .bytes(NFLOG.NFULA_CFG_QTHRESH, be32(1))
      .bytes(NFLOG.NFULA_CFG_TIMEOUT, be32(0));
    const seq = ++this.seq;
    const bytes = msg.done(seq);
    if (this.c.send(this.fd, bytes, bytes.length, 0) !== bytes.length)
      throw new Error(`nfnetlink_log send: ${this.c.strerror(this.c.errno())}`);
    for (;;) {
      const n = this.c.recv(this.fd, this.rx, this.rx.length, 0);
      if (n < 0) {
        const e = this.c.errno();
        if (e === NFLOG.EINTR) continue;
        throw new Error(`nfnetlink_log: no answer to binding group ${this.group}: ${this.c.strerror(e)}`);
      }
      const ack = parseNflogDatagram(this.rx.subarray(0, n)).acks.find((a) => a.seq === seq);
      if (!ack) continue;
      // EPERM is also the kernel's answer when another socket holds the group (nfulnl_recv_config).
      if (ack.error === EPERM)
        throw new Error(
          `nfnetlink_log: log group ${this.group} is bound by another process (ulogd? another agent?), or this one lacks CAP_NET_ADMIN`,
        );
      if (ack.error !== 0)
        throw new Error(`nfnetlink_log: binding log group ${this.group}: ${this.c.strerror(ack.error)}`);
      return;
    }
  }

  poll(): DropLogBatch {
    const batch: DropLogBatch = { packets: [], lost: 0 };
    if (this.closed) return batch;
    for (let i = 0; i < MAX_READS_PER_POLL; i++) {
      const n = this.c.recv(this.fd, this.rx, this.rx.length, NFLOG.MSG_DONTWAIT);
      if (n < 0) {
        const e = this.c.errno();
        if (e === NFLOG.EINTR) continue;
        // The socket's buffer overflowed: some packets were lost (how many, the kernel does not say).
        if (e === NFLOG.ENOBUFS) {
          batch.lost++;
          continue;
        }
        break; // EAGAIN: nothing more now
      }
      const d = parseNflogDatagram(this.rx.subarray(0, n));
      for (const p of d.packets) batch.packets.push(p);
    }
    return batch;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.c.close(this.fd);
  }
}
