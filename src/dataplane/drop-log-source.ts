import type { IpFamily } from "../model/ip.ts";

/** Layer-4 protocol of a logged packet: a name we know, else the IP protocol number. */
export type LoggedProtocol = "TCP" | "UDP" | "SCTP" | "ICMP" | "ICMPv6" | number;

/** One packet the kernel logged to our log group (nftables `log group N`), headers decoded. */
export interface LoggedPacket {
  /** The rule's log prefix, trailing space removed ("tartan-drop ing prod/web"). */
  prefix: string;
  family: IpFamily;
  src: string;
  dst: string;
  protocol: LoggedProtocol;
  /** TCP, UDP and SCTP. */
  srcPort?: number;
  dstPort?: number;
  /** ICMP and ICMPv6: type/code. */
  icmp?: { type: number; code: number };
  /** The packet's length on the wire (IP total length). */
  length: number;
  /** Input and output interface indexes, when the hook has them. */
  inIfindex?: number;
  outIfindex?: number;
}

/** What one poll read: the packets, and how many the kernel could not hand over (socket full). */
export interface DropLogBatch {
  packets: LoggedPacket[];
  lost: number;
}

/**
 * The kernel's log of packets dropped by policy, as a port: the agent polls it (no blocking read
 * on its event loop). The Linux driver is an nfnetlink_log socket bound to the log group in the
 * agent's own network namespace (dataplane/linux/netlink/nflog-socket.ts).
 */
export interface DropLogSource {
  /** The nftables log group the source is bound to. */
  readonly group: number;
  /** Everything received since the last poll; never blocks. */
  poll(): DropLogBatch;
  close(): void;
}
