import type { CniResult } from "../model/cni-result.ts";
import { parseResult } from "./shape-result.ts";

/**
 * When tartan is not the first plugin of a chain it must pass the previous result on: its own
 * interfaces are appended (its ips' interface indexes shifted accordingly), ips, routes appended.
 */
export function mergePrevResult(prev: unknown, own: CniResult): CniResult {
  if (prev === undefined || prev === null) return own;
  const p = parseResult(prev);
  const offset = p.interfaces?.length ?? 0;
  return {
    cniVersion: own.cniVersion,
    interfaces: [...(p.interfaces ?? []), ...(own.interfaces ?? [])],
    ips: [
      ...(p.ips ?? []),
      ...(own.ips ?? []).map((ip) =>
        ip.interface === undefined ? ip : { ...ip, interface: ip.interface + offset },
      ),
    ],
    routes: [...(p.routes ?? []), ...(own.routes ?? [])],
    ...(own.dns || p.dns ? { dns: own.dns ?? p.dns } : {}),
  };
}
