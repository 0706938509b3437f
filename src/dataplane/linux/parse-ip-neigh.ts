import { formatIp, parseIp } from "../../model/ip.ts";
import type { NeighInfo } from "../kernel-op.ts";

interface IpNeighJson {
  dst?: string;
  dev?: string;
  lladdr?: string;
  state?: string[];
}

/** `ip -j neigh show` → the PERMANENT entries (the ones tartan writes), canonical text. */
export function parseIpNeigh(json: string): NeighInfo[] {
  const rows = (json.trim() ? JSON.parse(json) : []) as IpNeighJson[];
  return rows
    .filter((r) => r.dst && r.dev && r.lladdr && (r.state ?? []).includes("PERMANENT"))
    .map((r) => ({ dev: r.dev!, ip: formatIp(parseIp(r.dst!)), mac: r.lladdr!.toLowerCase() }));
}
