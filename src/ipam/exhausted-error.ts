import { TartanError } from "../errors/tartan-error.ts";
import { describeRangeSet, type RangeSet } from "./range-set.ts";

/** No free address in any range of a set: the same words for ADD and for STATUS. */
export function exhaustedError(network: string, set: RangeSet): TartanError {
  return new TartanError(
    "ipam-exhausted",
    `network "${network}": no free IPv${set.family} address in range set ${set.index} (${describeRangeSet(set)})`,
    "run `tartan ipam check` to find leaked reservations (CNI GC releases them), or add a range to the set " +
      "or widen its subnet",
  );
}
