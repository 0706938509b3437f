import { parseIp } from "../../../model/ip.ts";
import type { NftElementChange } from "../../nft-table.ts";
import { ipBytes } from "./ip-bytes.ts";
import { NFT, nftMsgType } from "./nft-numbers.ts";
import { NlMessage } from "./nl-message.ts";
import { RTNL } from "./rtnl.ts";

/**
 * Elements per message: an attribute's length is 16 bits, and the elements of one message sit in
 * one nested attribute (an IPv6 element takes 28 bytes: 1000 of them fit with room to spare).
 */
export const ELEMENTS_PER_MESSAGE = 1000;

/** One message of a batch and the change (part) it carries, to name it in an error. */
export interface NftBatchPart {
  msg: NlMessage;
  /** Undefined for the batch's begin and end messages. */
  change?: NftElementChange;
}

function nfgen(family: number, resId: number): (v: DataView) => void {
  return (v) => {
    v.setUint8(0, family);
    v.setUint8(1, NFT.NFNETLINK_V0);
    v.setUint16(2, resId, false);
  };
}

const batchMark = (type: number): NlMessage =>
  new NlMessage(type, RTNL.NLM_F_REQUEST).header(4, nfgen(RTNL.AF_UNSPEC, NFT.NFNL_SUBSYS_NFTABLES));

function elementMessage(table: string, c: NftElementChange): NlMessage {
  const add = c.verb === "add";
  // What nft sends for `add element` (NLM_F_CREATE without EXCL: an element already there is no
  // error) and `delete element` (a missing element is ENOENT), plus NLM_F_ACK: every message is
  // answered, so success is confirmed rather than inferred from silence.
  const m = new NlMessage(
    nftMsgType(add ? NFT.NFT_MSG_NEWSETELEM : NFT.NFT_MSG_DELSETELEM),
    RTNL.NLM_F_REQUEST | RTNL.NLM_F_ACK | (add ? RTNL.NLM_F_CREATE : 0),
  )
    .header(4, nfgen(NFT.NFPROTO_INET, 0))
    .str(NFT.NFTA_SET_ELEM_LIST_TABLE, table)
    .str(NFT.NFTA_SET_ELEM_LIST_SET, c.set)
    .begin(NFT.NFTA_SET_ELEM_LIST_ELEMENTS | RTNL.NLA_F_NESTED);
  for (let i = 0; i < c.elements.length; i++) {
    const e = c.elements[i]!;
    const ip = parseIp(e, `element of set ${c.set}`);
    if (ip.family !== c.family) throw new Error(`${e} is not an IPv${c.family} address (set ${c.set})`);
    // libnftnl numbers the list's entries 1, 2, ... (the kernel reads them in order whatever
    // their type); numbered alike, our bytes are nft's.
    m.begin((i + 1) | RTNL.NLA_F_NESTED)
      .begin(NFT.NFTA_SET_ELEM_KEY | RTNL.NLA_F_NESTED)
      .bytes(NFT.NFTA_DATA_VALUE, ipBytes(ip))
      .end()
      .end();
  }
  return m.end();
}

/**
 * The nfnetlink batch doing `changes` in order in `table inet <table>`: BATCH_BEGIN, one
 * NEWSETELEM / DELSETELEM per set and ELEMENTS_PER_MESSAGE elements, BATCH_END. The kernel runs
 * a batch as one nf_tables transaction: every message applies, or none. Empty changes are skipped.
 */
export function nftElementBatch(table: string, changes: readonly NftElementChange[]): NftBatchPart[] {
  const parts: NftBatchPart[] = [{ msg: batchMark(NFT.NFNL_MSG_BATCH_BEGIN) }];
  for (const c of changes) {
    for (let i = 0; i < c.elements.length; i += ELEMENTS_PER_MESSAGE) {
      const part = { ...c, elements: c.elements.slice(i, i + ELEMENTS_PER_MESSAGE) };
      parts.push({ msg: elementMessage(table, part), change: part });
    }
  }
  parts.push({ msg: batchMark(NFT.NFNL_MSG_BATCH_END) });
  return parts;
}
