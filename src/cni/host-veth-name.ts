/**
 * The host side of a pod's veth: "tt" + 11 hex digits of a hash of (network, container id,
 * ifname). Deterministic, so DEL and GC find it without stored state; 13 characters fit Linux's
 * 15; the prefix marks it as tartan's. Bun.CryptoHasher, not node:crypto: loading node:crypto
 * costs ~10 ms of start-up, which every pod would pay.
 */
export function hostVethName(network: string, containerId: string, ifname: string): string {
  const h = new Bun.CryptoHasher("sha256").update(`${network}\0${containerId}\0${ifname}`).digest("hex");
  return `tt${h.slice(0, 11)}`;
}
