import { readFileSync } from "node:fs";

/**
 * Whether this kernel's conntrack tracks SCTP (CONFIG_NF_CT_PROTO_SCTP), which SCTP policy needs
 * (replies pass as established). Read from /proc/config.gz when the kernel exposes it; without
 * it the answer is yes (built in and on by default since Linux 5.1). Matching `th dport` needs
 * nothing more: nft reads SCTP's ports at the same offset as TCP's and UDP's.
 */
export function kernelTracksSctp(configGz = "/proc/config.gz"): boolean {
  let text: string;
  try {
    text = new TextDecoder().decode(Bun.gunzipSync(readFileSync(configGz)));
  } catch {
    return true;
  }
  return (
    !/^# CONFIG_NF_CT_PROTO_SCTP is not set/m.test(text) && !/^# CONFIG_NF_CONNTRACK is not set/m.test(text)
  );
}
