import { TartanError } from "../../../errors/tartan-error.ts";
import type { NftElementChange } from "../../nft-table.ts";
import type { Libc } from "./libc.ts";
import { NetlinkSocket } from "./netlink-socket.ts";
import { nftElementBatch } from "./nft-element-batch.ts";
import { NFT } from "./nft-numbers.ts";

/** At most this many addresses of a failed change are named in the error. */
const NAMED = 8;

function describe(table: string, c: NftElementChange): string {
  const shown = c.elements.slice(0, NAMED).join(", ");
  const more = c.elements.length > NAMED ? `, ... (${c.elements.length} in all)` : "";
  return `${c.verb} element inet ${table} ${c.set} { ${shown}${more} }`;
}

/**
 * Set element adds/deletes as nf_tables netlink batches on a NETLINK_NETFILTER socket of one
 * namespace (decision 0020): what `nft -f` sends for `add element` / `delete element` lines,
 * without spawning nft and without nft filling its cache from the kernel first. One batch is one
 * transaction: a refused message (a missing set, a deleted element not there) aborts all of it.
 */
export class NftElementWriter {
  private constructor(
    private readonly sock: NetlinkSocket,
    private readonly where: string,
  ) {}

  /** Opens the socket in `netns` (null: the calling thread's namespace). Throws if it cannot. */
  static open(c: Libc, netns: string | null): NftElementWriter {
    return new NftElementWriter(
      NetlinkSocket.open(c, netns, NFT.NETLINK_NETFILTER),
      netns ?? "the host namespace",
    );
  }

  /**
   * Applies the changes in order as one transaction; throws TartanError when an element does not
   * fit or the kernel refuses (nothing applied), and a plain Error when the socket itself fails.
   */
  write(table: string, changes: readonly NftElementChange[]): void {
    let parts: ReturnType<typeof nftElementBatch>;
    try {
      parts = nftElementBatch(table, changes);
    } catch (e) {
      throw new TartanError(
        "nft-apply-failed",
        `nf_tables element batch not sent to ${this.where} (nothing was applied): ${e instanceof Error ? e.message : String(e)}`,
        "an element does not fit its set's type: a bug in what the agent computed; report it with the agent's log",
      );
    }
    if (parts.length <= 2) return;
    const { seqs, answers } = this.sock.talkBatch(parts.map((p) => p.msg));
    const refused: string[] = [];
    let answered = 0;
    for (let i = 0; i < parts.length; i++) {
      const a = answers.get(seqs[i]!);
      const change = parts[i]!.change;
      if (a === undefined) continue;
      if (change) answered++;
      if (a.error === 0) continue;
      refused.push(`${change ? describe(table, change) : "the batch"}: ${a.words}`);
    }
    if (refused.length > 0) {
      throw new TartanError(
        "nft-apply-failed",
        `nf_tables element batch refused in ${this.where} (nothing was applied): ${refused.join("; ")}`,
        "a set or an element the agent expected is missing (changed outside tartan?); the agent reads the table again and retries",
      );
    }
    // Every element message asks for an answer: silence means the batch never ran as sent.
    if (answered !== parts.length - 2) {
      throw new TartanError(
        "nft-apply-failed",
        `nf_tables element batch in ${this.where}: ${parts.length - 2 - answered} of ${parts.length - 2} messages got no answer from the kernel`,
        "the kernel's nf_tables did not acknowledge the batch; check `nft list table inet tartan` and the kernel log",
      );
    }
  }

  close(): void {
    this.sock.close();
  }
}
