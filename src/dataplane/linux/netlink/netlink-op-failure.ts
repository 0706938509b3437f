/**
 * An op the kernel (or our own lookup, as iproute2's would) refused. `words` is what iproute2
 * would have printed, without its "RTNETLINK answers:" / "Error:" prefix, so that both drivers'
 * errors read the same.
 */
export class NetlinkOpFailure extends Error {
  constructor(readonly words: string) {
    super(words);
    this.name = "NetlinkOpFailure";
  }
}
