/**
 * nftables text for a network's ipMasq: one base chain per network in `table inet tartan`,
 * hooked at postrouting, so networks never share rules and each can be created or removed alone.
 * Every script is idempotent: `add` is a no-op for what exists, and a chain is flushed before its
 * rules are written, so running it twice leaves one copy.
 */
export const TARTAN_TABLE = "tartan";

export interface MasqueradeSpec {
  network: string;
  /** Pod subnets (network CIDR text) whose traffic leaving them is masqueraded. */
  subnets: string[];
}

/** Chain name for a network: nft identifiers allow letters, digits, '_', '.', '-' after a letter. */
export function masqueradeChain(network: string): string {
  return `masq-${network.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
}

export function renderMasqueradeAdd(spec: MasqueradeSpec): string {
  const chain = masqueradeChain(spec.network);
  const lines = [
    `add table inet ${TARTAN_TABLE}`,
    `add chain inet ${TARTAN_TABLE} ${chain} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain inet ${TARTAN_TABLE} ${chain}`,
  ];
  for (const subnet of spec.subnets) {
    const v6 = subnet.includes(":");
    const ip = v6 ? "ip6" : "ip";
    const multicast = v6 ? "ff00::/8" : "224.0.0.0/4";
    lines.push(
      `add rule inet ${TARTAN_TABLE} ${chain} ${ip} saddr ${subnet} ${ip} daddr != { ${subnet}, ${multicast} } masquerade comment "tartan ipMasq ${spec.network}"`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Removes the network's chain; succeeds whether or not it exists (add, flush, then delete: a chain must be empty to go). */
export function renderMasqueradeDelete(network: string): string {
  const chain = masqueradeChain(network);
  return [
    `add table inet ${TARTAN_TABLE}`,
    `add chain inet ${TARTAN_TABLE} ${chain} { type nat hook postrouting priority srcnat; policy accept; }`,
    `flush chain inet ${TARTAN_TABLE} ${chain}`,
    `delete chain inet ${TARTAN_TABLE} ${chain}`,
    "",
  ].join("\n");
}
