import type { NetnsRef } from "../dataplane.ts";

export interface IpTarget {
  /** Global ip options that select the namespace (e.g. ["-n", "x"]). */
  ipArgs: string[];
  /** When set, run the command inside this netns path (nsenter through run()). */
  nsenter?: string;
}

const NAMED = /^\/run\/netns\/([^/]+)$/;

/**
 * How to reach a namespace with ip: `-n NAME` for /run/netns/NAME (ip enters it itself, no extra
 * process), nsenter for any other path such as /proc/PID/ns/net, nothing for the current one.
 */
export function ipTarget(netns: NetnsRef): IpTarget {
  if (netns === null) return { ipArgs: [] };
  const m = NAMED.exec(netns);
  if (m?.[1]) return { ipArgs: ["-n", m[1]] };
  return { ipArgs: [], nsenter: netns };
}
