import type { Dataplane } from "../dataplane/dataplane.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { formatNetwork, parseCidr } from "../model/cidr.ts";
import type { Underlay } from "./kernel-port.ts";

/**
 * Reads the underlay facts the Node advertises from the configured interface: its first global
 * IPv4 address (IPv6 when it has none), that address's subnet, and the link MTU.
 */
export async function readUnderlay(dp: Dataplane, ifname: string): Promise<Underlay> {
  const link = await dp.link(null, ifname);
  if (!link) {
    throw new TartanError(
      "agent-underlay-missing",
      `underlay interface ${ifname} does not exist`,
      "set underlayInterface in the agent config to the interface that carries node-to-node traffic",
    );
  }
  const addrs = (await dp.addrs(null, ifname)).filter((a) => a.scope === "global");
  const a = addrs.find((x) => x.family === 4) ?? addrs[0];
  if (!a) {
    throw new TartanError(
      "agent-underlay-no-address",
      `underlay interface ${ifname} has no global address`,
      "give the interface its node address first (the agent advertises it to the other nodes)",
    );
  }
  const cidr = parseCidr(a.cidr);
  return { interface: ifname, address: a.cidr.split("/")[0]!, subnet: formatNetwork(cidr), mtu: link.mtu };
}
