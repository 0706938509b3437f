import type { IpamTx } from "../datastore/ipam-store.ts";
import { type Released, release } from "./release.ts";

/** An entry of the GC request's `cni.dev/valid-attachments`. */
export interface ValidAttachment {
  containerID: string;
  ifname: string;
}

const key = (containerId: string, ifname: string): string => `${containerId}\u0000${ifname}`;

/**
 * CNI GC for the IPAM state of one network: releases every reservation and attachment whose owner
 * is not in `valid`, and returns what was released (so the caller can also remove host-side
 * interfaces named in the attachments). Other networks are never touched.
 */
export function gc(tx: IpamTx, network: string, valid: readonly ValidAttachment[]): Released[] {
  const keep = new Set(valid.map((v) => key(v.containerID, v.ifname)));
  const stale = new Map<string, { containerId: string; ifname: string }>();
  for (const o of [...tx.allocations(network), ...tx.attachments(network)]) {
    const k = key(o.containerId, o.ifname);
    if (!keep.has(k)) stale.set(k, { containerId: o.containerId, ifname: o.ifname });
  }
  return [...stale.values()].map((o) => release(tx, network, o.containerId, o.ifname));
}
