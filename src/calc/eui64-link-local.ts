import { InvalidValueError } from "../model/invalid-value.ts";
import { formatIp } from "../model/ip.ts";

/**
 * The IPv6 link-local address a device with this MAC gives itself (RFC 4291 appendix A: flip
 * the universal/local bit, put ff:fe in the middle). It is the IPv6 next hop towards a remote
 * VTEP: the remote device owns it, so it answers for it and needs no extra address.
 */
export function eui64LinkLocal(mac: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(mac)) {
    throw new InvalidValueError("vtepMac", `"${mac}" is not a MAC address`);
  }
  const b = mac.split(":").map((x) => Number.parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  const interfaceId = iid.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  return formatIp({ family: 6, value: (0xfe80n << 112n) | interfaceId });
}
