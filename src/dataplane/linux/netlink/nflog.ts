/**
 * The nfnetlink_log numbers (linux/netfilter/nfnetlink.h, nfnetlink_log.h): messages of subsystem
 * NFNL_SUBSYS_ULOG on a NETLINK_NETFILTER socket, network-order integers in attributes.
 */
export const NFLOG = {
  NETLINK_NETFILTER: 12,
  NFNL_SUBSYS_ULOG: 4,
  NFULNL_MSG_PACKET: 0,
  NFULNL_MSG_CONFIG: 1,
  NFNETLINK_V0: 0,
  // Config attributes and commands.
  NFULA_CFG_CMD: 1,
  NFULA_CFG_MODE: 2,
  NFULA_CFG_NLBUFSIZ: 3,
  NFULA_CFG_TIMEOUT: 4,
  NFULA_CFG_QTHRESH: 5,
  NFULA_CFG_FLAGS: 6,
  NFULNL_CFG_CMD_BIND: 1,
  NFULNL_CFG_CMD_UNBIND: 2,
  NFULNL_COPY_PACKET: 2,
  // Packet attributes.
  NFULA_PACKET_HDR: 1,
  NFULA_MARK: 2,
  NFULA_TIMESTAMP: 3,
  NFULA_IFINDEX_INDEV: 4,
  NFULA_IFINDEX_OUTDEV: 5,
  NFULA_PAYLOAD: 9,
  NFULA_PREFIX: 10,
  // recv flag and errnos the poll loop handles.
  MSG_DONTWAIT: 0x40,
  EAGAIN: 11,
  EINTR: 4,
  ENOBUFS: 105,
} as const;

/** nlmsg_type of a logged packet and of a config request. */
export const NFLOG_PACKET_TYPE = (NFLOG.NFNL_SUBSYS_ULOG << 8) | NFLOG.NFULNL_MSG_PACKET;
export const NFLOG_CONFIG_TYPE = (NFLOG.NFNL_SUBSYS_ULOG << 8) | NFLOG.NFULNL_MSG_CONFIG;
