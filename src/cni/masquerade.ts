import { formatNetwork, parseCidr } from "../model/cidr.ts";
import {
  masqueradeChain,
  renderMasqueradeAdd,
  renderMasqueradeDelete,
  TARTAN_TABLE,
} from "../render/masquerade-nft.ts";
import type { CniDeps } from "./cni-deps.ts";

export function markerPath(stateDir: string, network: string): string {
  return `${stateDir}/masq-${network}.key`;
}

/**
 * Makes sure the network's masquerade chain exists. Writing it costs an `nft` run, so a marker
 * file remembers that it was written for this boot, this network namespace and these subnets;
 * ADDs after the first skip the run. CHECK verifies the chain itself and repairs it.
 */
export async function ensureMasquerade(
  deps: CniDeps,
  stateDir: string,
  network: string,
  addresses: string[],
  force = false,
): Promise<void> {
  const subnets = [...new Set(addresses.map((a) => formatNetwork(parseCidr(a))))].sort();
  const key = `${deps.host.setupKey()} ${subnets.join(",")}`;
  const marker = markerPath(stateDir, network);
  if (!force && deps.readMarker(marker) === key) return;
  await deps.nft.apply(null, renderMasqueradeAdd({ network, subnets }));
  deps.writeMarker(marker, key);
}

/**
 * Removes the network's chain. With `dropEmptyTable` (GC only) also the table when nothing of
 * tartan's is left in it: nft cannot delete a table "only if empty", so between our look and the
 * delete a concurrent ADD could put a chain there and lose it. GC runs exclusively (the runtime
 * runs no ADD/DEL meanwhile), so only GC may drop the table; DEL leaves an empty one behind.
 */
export async function removeMasquerade(
  deps: CniDeps,
  stateDir: string,
  network: string,
  dropEmptyTable = false,
): Promise<void> {
  // Marker first: an ADD that looks after this point writes the chain again itself.
  deps.removeMarker(markerPath(stateDir, network));
  await deps.nft.apply(null, renderMasqueradeDelete(network));
  if (!dropEmptyTable) return;
  const listing = await deps.nft.list(null, "inet", TARTAN_TABLE);
  if (listing !== undefined && !/\bchain\s/.test(listing) && !/\bset\s|\bmap\s/.test(listing)) {
    await deps.nft.apply(null, `delete table inet ${TARTAN_TABLE}\n`).catch(async (e) => {
      if ((await deps.nft.list(null, "inet", TARTAN_TABLE)) !== undefined) throw e;
    });
  }
}

/** Whether the network's masquerade chain is loaded (for CHECK). */
export async function masqueradePresent(deps: CniDeps, network: string): Promise<boolean> {
  const listing = await deps.nft.list(null, "inet", TARTAN_TABLE);
  return listing?.includes(`chain ${masqueradeChain(network)} `) ?? false;
}
