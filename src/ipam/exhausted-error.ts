import { TartanError } from "../errors/tartan-error.ts";
import { describeRangeSet, type RangeSet } from "./range-set.ts";

/** No free address in any range of a set: the same words for ADD and for STATUS. */
export function exhaustedError(network: string, set: RangeSet): TartanError {
  return new TartanError(
    "ipam-exhausted",
    `network "${network}": no free IPv${set.family} address in range set ${set.index} (${describeRangeSet(set)})`,
    `\`tartan ipam ls --network ${network}\` (with --data-dir DIR when ipam.dataDir is set) lists the ` +
      "reservations: those of containers that are gone are leaks, which CNI GC releases (with an agent, " +
      "`tartan ipam check` lists them and `tartan ipam release --ip IP` frees one); or add a range to " +
      "the set or widen its subnet",
  );
}
