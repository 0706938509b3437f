import { CniCode, CniError } from "../errors/cni-error.ts";
import { parseCidr } from "../model/cidr.ts";
import type { CniRoute } from "../model/cni-result.ts";
import { InvalidValueError } from "../model/invalid-value.ts";
import { parseIp } from "../model/ip.ts";

/** `ipam.routes`: [{dst, gw?}], validated (host-local's schema). */
export function parseIpamRoutes(ipam: Record<string, unknown>): CniRoute[] {
  const raw = ipam.routes;
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw))
    throw new CniError(CniCode.invalidConfig, "ipam.routes must be a list of {dst, gw}");
  return raw.map((r, i) => {
    const field = `ipam.routes[${i}]`;
    if (typeof r !== "object" || r === null || typeof (r as { dst?: unknown }).dst !== "string") {
      throw new CniError(
        CniCode.invalidConfig,
        `${field} must be {"dst": "CIDR", "gw"?: "IP"}, got ${JSON.stringify(r)}`,
      );
    }
    const { dst, gw } = r as { dst: string; gw?: unknown };
    try {
      parseCidr(dst, `${field}.dst`);
      if (gw !== undefined) parseIp(String(gw), `${field}.gw`);
    } catch (e) {
      if (e instanceof InvalidValueError) throw new CniError(CniCode.invalidConfig, e.message);
      throw e;
    }
    return gw === undefined ? { dst } : { dst, gw: String(gw) };
  });
}
