import { TartanError } from "../errors/tartan-error.ts";
import type { IpFamily } from "../model/ip.ts";

/**
 * The node's blocks cannot satisfy an ADD: `family` has no free address in its blocks, or (when
 * undefined) the node has no block at all yet. The plugin answers it by asking the agent for a
 * block and retrying; it reaches the runtime only when that did not help.
 */
export class BlocksFullError extends TartanError {
  constructor(
    readonly network: string,
    readonly family: IpFamily | undefined,
  ) {
    super(
      "ipam-blocks-full",
      family
        ? `network "${network}": this node's IPv${family} blocks have no free address`
        : `network "${network}": this node has no IPAM block yet`,
      "the tartan agent claims blocks for the node; check that it runs (`tartan agent --config FILE`, " +
        "`tartan policy status --socket PATH` asks it) and read its log",
    );
    this.name = "BlocksFullError";
  }
}
