/**
 * The nf_tables numbers the element writer uses (linux/netfilter/nfnetlink.h, nf_tables.h,
 * netfilter.h): messages of subsystem NFNL_SUBSYS_NFTABLES on a NETLINK_NETFILTER socket, inside
 * an nfnetlink batch (one batch is one nf_tables transaction).
 */
export const NFT = {
  NETLINK_NETFILTER: 12,
  NFNETLINK_V0: 0,
  NFNL_SUBSYS_NFTABLES: 10,
  NFNL_MSG_BATCH_BEGIN: 16,
  NFNL_MSG_BATCH_END: 17,
  NFPROTO_INET: 1,
  NFT_MSG_NEWSETELEM: 12,
  NFT_MSG_DELSETELEM: 14,
  NFTA_SET_ELEM_LIST_TABLE: 1,
  NFTA_SET_ELEM_LIST_SET: 2,
  NFTA_SET_ELEM_LIST_ELEMENTS: 3,
  NFTA_SET_ELEM_KEY: 1,
  NFTA_DATA_VALUE: 1,
  MSG_DONTWAIT: 0x40,
  EAGAIN: 11,
  EINTR: 4,
} as const;

/** nlmsg_type of an nf_tables message. */
export const nftMsgType = (msg: number): number => (NFT.NFNL_SUBSYS_NFTABLES << 8) | msg;
