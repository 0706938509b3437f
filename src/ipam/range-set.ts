import { formatIp, type Ip, type IpFamily } from "../model/ip.ts";
import { type IpRange, parseIpRange, rangeContains } from "./ip-range.ts";
import { ipamConfigError } from "./ipam-config-error.ts";

/**
 * One entry of `ranges`: the pod gets exactly one address from it, taken from the first of its
 * alternative ranges that has room. A dual-stack network has one IPv4 set and one IPv6 set.
 */
export interface RangeSet {
  /** Position in the config's `ranges`, used in messages and in results. */
  readonly index: number;
  readonly family: IpFamily;
  readonly ranges: readonly IpRange[];
}

export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.family === b.family && a.start.value <= b.end.value && b.start.value <= a.end.value;
}

/** The range of the set whose [start, end] holds ip, if any. */
export function rangeOf(set: RangeSet, ip: Ip): IpRange | undefined {
  return set.ranges.find((r) => rangeContains(r, ip));
}

/** Human form for messages: "10.88.0.0/16, 10.89.0.0/16[10.89.0.10-10.89.0.20]". */
export function describeRangeSet(set: RangeSet): string {
  return set.ranges.map((r) => r.key).join(", ");
}

/** Parses one inner list of `ranges` at `field` (e.g. "ipam.ranges[1]"). */
export function parseRangeSet(raw: unknown, index: number, field: string): RangeSet {
  if (!Array.isArray(raw) || raw.length === 0) {
    throw ipamConfigError(
      field,
      "must be a non-empty list of ranges [{subnet, rangeStart?, rangeEnd?, gateway?}]",
    );
  }
  const ranges = raw.map((r, i) => parseIpRange(r, `${field}[${i}]`));
  const first = ranges[0]!;
  ranges.forEach((r, i) => {
    if (r.family !== first.family) {
      throw ipamConfigError(
        `${field}[${i}].subnet`,
        `${r.subnet} is IPv${r.family} but ${field}[0] is IPv${first.family}; a range set gives one address, ` +
          "so it holds one family (put IPv4 and IPv6 in separate sets for dual-stack)",
      );
    }
    for (let j = 0; j < i; j++) {
      const other = ranges[j]!;
      if (rangesOverlap(r, other)) {
        throw ipamConfigError(
          `${field}[${i}]`,
          `${formatIp(r.start)}-${formatIp(r.end)} overlaps ${field}[${j}] (${formatIp(other.start)}-${formatIp(other.end)})`,
        );
      }
    }
  });
  return { index, family: first.family, ranges };
}
