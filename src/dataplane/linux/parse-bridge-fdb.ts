import { formatIp, parseIp } from "../../model/ip.ts";
import type { FdbInfo } from "../kernel-op.ts";

interface BridgeFdbJson {
  mac?: string;
  dst?: string;
  state?: string;
  flags?: string[];
}

/** `bridge -j fdb show dev DEV` → the permanent entries that point at a remote VTEP (the ones tartan writes). */
export function parseBridgeFdb(json: string, dev: string): FdbInfo[] {
  const rows = (json.trim() ? JSON.parse(json) : []) as BridgeFdbJson[];
  return rows
    .filter((r) => r.mac && r.dst && r.state === "permanent")
    .map((r) => ({ dev, mac: r.mac!.toLowerCase(), dst: formatIp(parseIp(r.dst!)) }));
}
