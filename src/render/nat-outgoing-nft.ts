import { TARTAN_TABLE } from "./masquerade-nft.ts";

/** The chain and sets of outgoing NAT in `table inet tartan` (none of policy's or ipMasq's names). */
export const NAT_OUTGOING = {
  chain: "nat-outgoing",
  /** Pools whose pods' traffic leaving the cluster is masqueraded. */
  from: { 4: "nat-from4", 6: "nat-from6" },
  /** Every pool: traffic to a pod address is never masqueraded (NetworkPolicy sees pod sources). */
  pools: { 4: "nat-pools4", 6: "nat-pools6" },
} as const;

export interface NatOutgoingPool {
  cidr: string;
  natOutgoing: boolean;
}

/**
 * The whole outgoing-NAT state as one idempotent nft script (Calico's `natOutgoing` on IPPools):
 * from a pod address of a natOutgoing pool to any address outside every pool → masquerade to the
 * node's own address on the way out. Sets are flushed and refilled and the chain rewritten, so
 * the script run twice, or after a pool change, leaves exactly the desired state; with no
 * natOutgoing pool the chain and sets are removed.
 */
export function renderNatOutgoing(pools: readonly NatOutgoingPool[]): string {
  const T = `inet ${TARTAN_TABLE}`;
  const fam = (f: 4 | 6) => (c: string) => (c.includes(":") ? 6 : 4) === f;
  const lines = [`add table ${T}`];
  for (const f of [4, 6] as const) {
    const type = f === 4 ? "ipv4_addr" : "ipv6_addr";
    for (const set of [NAT_OUTGOING.from[f], NAT_OUTGOING.pools[f]]) {
      lines.push(
        `add set ${T} ${set} { type ${type}; flags interval; auto-merge; }`,
        `flush set ${T} ${set}`,
      );
    }
  }
  lines.push(
    `add chain ${T} ${NAT_OUTGOING.chain} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain ${T} ${NAT_OUTGOING.chain}`,
  );
  if (!pools.some((p) => p.natOutgoing)) {
    lines.push(`delete chain ${T} ${NAT_OUTGOING.chain}`);
    for (const f of [4, 6] as const)
      lines.push(`delete set ${T} ${NAT_OUTGOING.from[f]}`, `delete set ${T} ${NAT_OUTGOING.pools[f]}`);
    return `${lines.join("\n")}\n`;
  }
  for (const f of [4, 6] as const) {
    const ip = f === 4 ? "ip" : "ip6";
    const all = pools.map((p) => p.cidr).filter(fam(f));
    const from = pools
      .filter((p) => p.natOutgoing)
      .map((p) => p.cidr)
      .filter(fam(f));
    if (from.length) lines.push(`add element ${T} ${NAT_OUTGOING.from[f]} { ${from.join(", ")} }`);
    if (all.length) lines.push(`add element ${T} ${NAT_OUTGOING.pools[f]} { ${all.join(", ")} }`);
    lines.push(
      // Multicast stays as it is (as the ipMasq chain leaves it).
      `add rule ${T} ${NAT_OUTGOING.chain} ${ip} daddr ${f === 4 ? "224.0.0.0/4" : "ff00::/8"} return`,
      `add rule ${T} ${NAT_OUTGOING.chain} ${ip} saddr @${NAT_OUTGOING.from[f]} ${ip} daddr != @${NAT_OUTGOING.pools[f]} masquerade comment "tartan natOutgoing"`,
    );
  }
  return `${lines.join("\n")}\n`;
}
