import { inNetns } from "./in-netns.ts";
import type { Libc } from "./libc.ts";
import type { NlMessage } from "./nl-message.ts";
import { RTNL } from "./rtnl.ts";

/** The kernel's answer to one request. */
export interface NlReply {
  /** 0 when acknowledged, else the positive errno. */
  error: number;
  /** On error: the kernel's words as iproute2 prints them (extended ack message, else strerror). */
  words: string;
  /** Reply messages before the ack (RTM_GETLINK answers), each a whole message. */
  messages: DataView[];
}

const EINTR = 4;
const EAGAIN = 11;
const MSG_DONTWAIT = 0x40;

function intOpt(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  return b;
}

/** Each netlink message of one datagram: its offset and length, the header's length checked. */
function* messagesIn(v: DataView): Generator<[offset: number, length: number]> {
  for (let off = 0; off + RTNL.NLMSG_HDRLEN <= v.byteLength; ) {
    const len = v.getUint32(off, true);
    if (len < RTNL.NLMSG_HDRLEN || off + len > v.byteLength) throw new Error("netlink: malformed reply");
    yield [off, len];
    off += (len + 3) & ~3;
  }
}

/**
 * A NETLINK_ROUTE socket bound to one network namespace: the namespace the calling thread was in
 * when the socket was created, which is how we reach a pod's namespace without spawning
 * `ip -n` or nsenter. Every request asks for an ack and is answered before the next one.
 */
export class NetlinkSocket {
  private seq = Math.floor(Date.now() / 1000) & 0xffff;
  private readonly rx = new Uint8Array(65536);
  private tx = new Uint8Array(8192);

  private constructor(
    private readonly c: Libc,
    private readonly fd: number,
  ) {}

  /**
   * Opens a socket in `netns` (a namespace path; null = the thread's own). Switching happens
   * synchronously around socket() and the thread is back in its own namespace before this returns,
   * so no other code (and no await) ever runs in the target namespace. Throws when the namespace
   * cannot be entered or the socket not created; nothing has been changed then.
   */
  static open(c: Libc, netns: string | null, protocol: number = RTNL.NETLINK_ROUTE): NetlinkSocket {
    const fd =
      netns === null
        ? NetlinkSocket.socket(c, protocol)
        : inNetns(c, netns, () => NetlinkSocket.socket(c, protocol));
    return NetlinkSocket.configure(c, fd);
  }

  private static socket(c: Libc, protocol: number): number {
    const fd = c.socket(RTNL.AF_NETLINK, RTNL.SOCK_RAW | RTNL.SOCK_CLOEXEC, protocol);
    if (fd < 0) throw new Error(`socket(AF_NETLINK): ${c.strerror(c.errno())}`);
    return fd;
  }

  private static configure(c: Libc, fd: number): NetlinkSocket {
    // Extended acks carry the kernel's own sentence ("Nexthop has invalid gateway"), which is
    // what iproute2 prints; capped acks do not echo our request back.
    c.setsockopt(fd, RTNL.SOL_NETLINK, RTNL.NETLINK_EXT_ACK, intOpt(1), 4);
    c.setsockopt(fd, RTNL.SOL_NETLINK, RTNL.NETLINK_CAP_ACK, intOpt(1), 4);
    // rtnetlink answers synchronously; a timeout only guards against a bug leaving us waiting.
    const tv = new Uint8Array(16);
    new DataView(tv.buffer).setBigInt64(0, 5n, true);
    c.setsockopt(fd, RTNL.SOL_SOCKET, RTNL.SO_RCVTIMEO, tv, 16);
    return new NetlinkSocket(c, fd);
  }

  /** Sends one request and reads until its ack. Throws only on socket failures. */
  talk(msg: NlMessage): NlReply {
    const seq = ++this.seq;
    const bytes = msg.done(seq);
    if (this.c.send(this.fd, bytes, bytes.length, 0) !== bytes.length)
      throw new Error(`netlink send: ${this.c.strerror(this.c.errno())}`);
    const messages: DataView[] = [];
    for (;;) {
      const v = this.receive();
      for (const [off, len] of messagesIn(v)) {
        // Anything not answering this request (a late answer to an earlier one) is skipped.
        if (v.getUint32(off + 8, true) !== seq) continue;
        const type = v.getUint16(off + 4, true);
        if (type === RTNL.NLMSG_ERROR) return this.ack(v, off, len, messages);
        if (type === RTNL.NLMSG_DONE) return { error: 0, words: "", messages };
        messages.push(new DataView(this.rx.slice(off, off + len).buffer));
      }
    }
  }

  private ack(v: DataView, off: number, len: number, messages: DataView[]): NlReply {
    const error = -v.getInt32(off + 16, true);
    if (error === 0) return { error, words: "", messages };
    const flags = v.getUint16(off + 6, true);
    let words = "";
    if (flags & RTNL.NLM_F_ACK_TLVS) {
      // nlmsgerr = error + the request's header (+ its payload unless capped), then attributes.
      const echoed = flags & RTNL.NLM_F_CAPPED ? RTNL.NLMSG_HDRLEN : v.getUint32(off + 20, true);
      for (let a = off + 20 + ((echoed + 3) & ~3); a + 4 <= off + len; ) {
        const alen = v.getUint16(a, true);
        if (alen < 4) break;
        if ((v.getUint16(a + 2, true) & 0x3fff) === RTNL.NLMSGERR_ATTR_MSG) {
          const raw = new Uint8Array(v.buffer, v.byteOffset + a + 4, alen - 4);
          words = new TextDecoder().decode(raw).replace(/\0.*$/s, "").trim();
        }
        a += (alen + 3) & ~3;
      }
    }
    // iproute2 prints "Error: <ext ack>." when the kernel gave one, else "RTNETLINK answers: <strerror>".
    words = words.replace(/\.$/, "") || this.c.strerror(error);
    return { error, words, messages };
  }

  /**
   * Sends `msgs` in one datagram (an nfnetlink batch: the kernel runs it as one transaction) and
   * returns every answer to them, by sequence number, with the sequence numbers given. The kernel
   * handles a datagram within send() and queues all its answers before send() returns, so the
   * answers are read without waiting until none is left (nft reads them the same way).
   */
  talkBatch(msgs: readonly NlMessage[]): { seqs: number[]; answers: Map<number, NlReply> } {
    const seqs = msgs.map(() => ++this.seq);
    this.sendDatagram(msgs.map((m, i) => m.done(seqs[i]!)));
    const answers = new Map<number, NlReply>();
    const ours = new Set(seqs);
    for (;;) {
      const n = this.c.recv(this.fd, this.rx, this.rx.length, MSG_DONTWAIT);
      if (n < 0) {
        const e = this.c.errno();
        if (e === EINTR) continue;
        if (e === EAGAIN) return { seqs, answers };
        throw new Error(`netlink recv: ${this.c.strerror(e)}`);
      }
      const v = new DataView(this.rx.buffer, 0, n);
      for (const [off, len] of messagesIn(v)) {
        const seq = v.getUint32(off + 8, true);
        if (ours.has(seq) && v.getUint16(off + 4, true) === RTNL.NLMSG_ERROR)
          answers.set(seq, this.ack(v, off, len, []));
      }
    }
  }

  /**
   * Sends `msgs` (rtnetlink requests, each built with NLM_F_ACK) in one datagram and returns each
   * one's answer, in order. Only the last keeps its ack flag: the kernel runs the requests of a
   * datagram one after the other and answers a request without the flag only when it fails, so
   * what arrives before the last ack is exactly the failures. One send and one read per success
   * instead of one send and one read per request (measured: half the system time per op). The
   * kernel runs every request of the datagram even after one fails: a caller that must stop at
   * the first refusal sends one at a time (talk).
   */
  talkMany(msgs: readonly NlMessage[]): NlReply[] {
    const n = msgs.length;
    const first = this.seq + 1;
    this.sendDatagram(
      msgs.map((m, i) => {
        const b = m.done(++this.seq);
        // nlmsg_flags is little-endian at offset 6; NLM_F_ACK sits in its low byte.
        if (i < n - 1) b[6] = (b[6] as number) & ~RTNL.NLM_F_ACK;
        return b;
      }),
    );
    const ok: NlReply = { error: 0, words: "", messages: [] };
    const replies: NlReply[] = new Array<NlReply>(n).fill(ok);
    for (;;) {
      const v = this.receive();
      for (const [off, len] of messagesIn(v)) {
        const i = (v.getUint32(off + 8, true) - first) >>> 0;
        if (i < n && v.getUint16(off + 4, true) === RTNL.NLMSG_ERROR) {
          replies[i] = this.ack(v, off, len, []);
          if (i === n - 1) return replies;
        }
      }
    }
  }

  close(): void {
    this.c.close(this.fd);
  }

  /** Several messages as one datagram, through a send buffer kept between calls. */
  private sendDatagram(chunks: readonly Uint8Array[]): void {
    let len = 0;
    for (const b of chunks) len += b.length;
    if (this.tx.length < len) this.tx = new Uint8Array(Math.max(len, this.tx.length * 2));
    let at = 0;
    for (const b of chunks) {
      this.tx.set(b, at);
      at += b.length;
    }
    if (this.c.send(this.fd, this.tx, len, 0) !== len)
      throw new Error(`netlink send: ${this.c.strerror(this.c.errno())}`);
  }

  /** The next datagram of replies (a recv interrupted by a signal is retried). */
  private receive(): DataView {
    for (;;) {
      const n = this.c.recv(this.fd, this.rx, this.rx.length, 0);
      if (n >= 0) return new DataView(this.rx.buffer, 0, n);
      const e = this.c.errno();
      if (e !== EINTR) throw new Error(`netlink recv: ${this.c.strerror(e)}`);
    }
  }
}
