import { CniCode, CniError } from "../errors/cni-error.ts";
import type { CniIpConfig, CniResult, CniRoute } from "../model/cni-result.ts";
import { versionAtLeast } from "../model/cni-version.ts";

function familyOf(address: string): "4" | "6" {
  return address.includes(":") ? "6" : "4";
}

function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Renders an internal (1.1.0-shaped) result in the request's version: 1.0.0 drops the 1.1.0
 * additions, 0.3.x/0.4.0 additionally carry `ips[].version` and routes with only dst/gw.
 */
export function shapeResult(result: CniResult, version: string): Record<string, unknown> {
  const v11 = versionAtLeast(version, "1.1.0");
  const v1 = versionAtLeast(version, "1.0.0");
  const out: Record<string, unknown> = { cniVersion: version };
  if (result.interfaces) {
    out.interfaces = result.interfaces.map((i) =>
      compact({
        name: i.name,
        mac: i.mac,
        mtu: v11 ? i.mtu : undefined,
        sandbox: i.sandbox,
        socketPath: v11 ? i.socketPath : undefined,
        pciID: v11 ? i.pciID : undefined,
      }),
    );
  }
  if (result.ips) {
    out.ips = result.ips.map((ip) =>
      compact({
        version: v1 ? undefined : familyOf(ip.address),
        interface: ip.interface,
        address: ip.address,
        gateway: ip.gateway,
      }),
    );
  }
  if (result.routes) {
    out.routes = result.routes.map((r) => (v11 ? compact({ ...r }) : compact({ dst: r.dst, gw: r.gw })));
  }
  if (result.dns && Object.keys(result.dns).length) out.dns = result.dns;
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Reads a prevResult (or a delegated plugin's result) of any supported version into the
 * internal shape. Unknown extra keys are dropped; a malformed result is a decode error (6).
 */
export function parseResult(raw: unknown, what = "prevResult"): CniResult {
  if (!isObject(raw)) throw new CniError(CniCode.decodeFailure, `${what} is not a JSON object`);
  const bad = (why: string) => new CniError(CniCode.decodeFailure, `${what}: ${why}`);
  const result: CniResult = { cniVersion: typeof raw.cniVersion === "string" ? raw.cniVersion : "1.1.0" };
  if (raw.interfaces !== undefined) {
    if (!Array.isArray(raw.interfaces)) throw bad("interfaces must be a list");
    result.interfaces = raw.interfaces.map((i, n) => {
      if (!isObject(i) || typeof i.name !== "string") throw bad(`interfaces[${n}] has no name`);
      return compact({
        name: i.name,
        mac: typeof i.mac === "string" ? i.mac : undefined,
        mtu: typeof i.mtu === "number" ? i.mtu : undefined,
        sandbox: typeof i.sandbox === "string" && i.sandbox !== "" ? i.sandbox : undefined,
        socketPath: typeof i.socketPath === "string" ? i.socketPath : undefined,
        pciID: typeof i.pciID === "string" ? i.pciID : undefined,
      });
    });
  }
  if (raw.ips !== undefined) {
    if (!Array.isArray(raw.ips)) throw bad("ips must be a list");
    result.ips = raw.ips.map((ip, n): CniIpConfig => {
      if (!isObject(ip) || typeof ip.address !== "string") throw bad(`ips[${n}] has no address`);
      return compact({
        address: ip.address,
        gateway: typeof ip.gateway === "string" ? ip.gateway : undefined,
        interface: typeof ip.interface === "number" ? ip.interface : undefined,
      });
    });
  }
  if (raw.routes !== undefined) {
    if (!Array.isArray(raw.routes)) throw bad("routes must be a list");
    result.routes = raw.routes.map((r, n): CniRoute => {
      if (!isObject(r) || typeof r.dst !== "string") throw bad(`routes[${n}] has no dst`);
      const num = (k: string) => (typeof r[k] === "number" ? (r[k] as number) : undefined);
      return compact({
        dst: r.dst,
        gw: typeof r.gw === "string" ? r.gw : undefined,
        mtu: num("mtu"),
        advmss: num("advmss"),
        priority: num("priority"),
        table: num("table"),
        scope: num("scope"),
      });
    });
  }
  if (isObject(raw.dns)) result.dns = raw.dns as CniResult["dns"];
  return result;
}
