import { contains, lastOf, networkOf, parseCidr } from "../model/cidr.ts";
import { formatIp, IP_BITS, type Ip, type IpFamily, parseIp } from "../model/ip.ts";
import { ipamConfigError, parseConfigField } from "./ipam-config-error.ts";

/**
 * One configured range, fully defaulted and validated (host-local's Range after Canonicalize).
 * Addresses are handed out from [start, end] except the network address, the IPv4 broadcast
 * address and the gateway.
 */
export interface IpRange {
  readonly family: IpFamily;
  readonly network: Ip;
  readonly prefix: number;
  readonly broadcast: Ip;
  readonly start: Ip;
  readonly end: Ip;
  readonly gateway: Ip;
  /** Stable name of the range: the subnet, plus the bounds when they are not the defaults. */
  readonly key: string;
  /** The subnet in text form, e.g. "10.88.0.0/16". */
  readonly subnet: string;
}

const at = (family: IpFamily, value: bigint): Ip => ({ family, value });

function optionalIp(raw: Record<string, unknown>, name: string, field: string): Ip | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw ipamConfigError(`${field}.${name}`, `must be a string, got ${typeof v}`);
  return parseConfigField(`${field}.${name}`, (f) => parseIp(v, f));
}

/** True when ip is never handed out: network address, IPv4 broadcast, gateway. */
export function isReservedAddress(r: IpRange, ip: Ip): boolean {
  return (
    ip.value === r.network.value ||
    ip.value === r.gateway.value ||
    (r.family === 4 && ip.value === r.broadcast.value)
  );
}

/** Whether ip lies in [start, end] of the range (reserved addresses included). */
export function rangeContains(r: IpRange, ip: Ip): boolean {
  return ip.family === r.family && ip.value >= r.start.value && ip.value <= r.end.value;
}

/** How many addresses the range can hand out. */
export function rangeCapacity(r: IpRange): bigint {
  let n = r.end.value - r.start.value + 1n;
  const skipped = new Set([r.network.value, r.gateway.value]);
  if (r.family === 4) skipped.add(r.broadcast.value);
  for (const v of skipped) if (v >= r.start.value && v <= r.end.value) n--;
  return n;
}

/**
 * Parses {subnet, rangeStart?, rangeEnd?, gateway?} at `field` (e.g. "ipam.ranges[0][1]").
 * Defaults follow host-local: gateway and rangeStart = network + 1, rangeEnd = broadcast - 1 for
 * IPv4 and the last address for IPv6 (IPv6 has no broadcast).
 */
export function parseIpRange(raw: unknown, field: string): IpRange {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw ipamConfigError(field, "must be an object {subnet, rangeStart?, rangeEnd?, gateway?}");
  }
  const obj = raw as Record<string, unknown>;
  const subnetText = obj["subnet"];
  if (typeof subnetText !== "string" || subnetText === "") {
    throw ipamConfigError(`${field}.subnet`, "is required (a CIDR such as 10.88.0.0/16)");
  }
  const cidr = parseConfigField(`${field}.subnet`, (f) => parseCidr(subnetText, f));
  const family = cidr.ip.family;
  const network = networkOf(cidr);
  if (network.value !== cidr.ip.value) {
    throw ipamConfigError(
      `${field}.subnet`,
      `"${subnetText}" has host bits set; the network address of a /${cidr.prefix} there is ${formatIp(network)}`,
    );
  }
  if (cidr.prefix > IP_BITS[family] - 2) {
    throw ipamConfigError(
      `${field}.subnet`,
      `"${subnetText}" is too small to allocate from (at most /${IP_BITS[family] - 2})`,
    );
  }
  const broadcast = lastOf(cidr);
  const subnet = `${formatIp(network)}/${cidr.prefix}`;
  const inSubnet = (name: string, ip: Ip | undefined): Ip | undefined => {
    if (ip && !contains(cidr, ip)) {
      throw ipamConfigError(`${field}.${name}`, `${formatIp(ip)} is not inside subnet ${subnet}`);
    }
    return ip;
  };
  const givenStart = inSubnet("rangeStart", optionalIp(obj, "rangeStart", field));
  const givenEnd = inSubnet("rangeEnd", optionalIp(obj, "rangeEnd", field));
  const gateway = inSubnet("gateway", optionalIp(obj, "gateway", field)) ?? at(family, network.value + 1n);
  const start = givenStart ?? at(family, network.value + 1n);
  const end = givenEnd ?? at(family, family === 4 ? broadcast.value - 1n : broadcast.value);
  if (start.value > end.value) {
    throw ipamConfigError(`${field}.rangeStart`, `${formatIp(start)} comes after rangeEnd ${formatIp(end)}`);
  }
  const key = givenStart || givenEnd ? `${subnet}[${formatIp(start)}-${formatIp(end)}]` : subnet;
  const range: IpRange = {
    family,
    network,
    prefix: cidr.prefix,
    broadcast,
    start,
    end,
    gateway,
    key,
    subnet,
  };
  if (rangeCapacity(range) === 0n) {
    throw ipamConfigError(
      field,
      `${formatIp(start)}-${formatIp(end)} holds only the network, broadcast or gateway address, nothing to hand out`,
    );
  }
  return range;
}
