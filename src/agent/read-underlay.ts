import type { Dataplane, NetnsRef } from "../dataplane/dataplane.ts";
import type { AddrInfo, LinkInfo } from "../dataplane/kernel-op.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { contains, formatNetwork, parseCidr } from "../model/cidr.ts";
import { parseIp } from "../model/ip.ts";
import { parseUnderlaySelector, UNDERLAY_SELECTOR_FORMS } from "../model/underlay-selector.ts";
import type { Underlay } from "./kernel-port.ts";

/** Devices the autodetecting forms never pick: loopback and tartan's own (bridge, VXLAN, veths). */
const NOT_UNDERLAY = /^(lo$|tartan|tt-|veth)/;

const HINT = `set underlayInterface in the agent config to ${UNDERLAY_SELECTOR_FORMS} (the interface that carries node-to-node traffic)`;

/**
 * Reads the underlay facts the Node advertises from the interface `selector` picks (a name or an
 * autodetection form, model/underlay-selector.ts): its first global IPv4 address (IPv6 when it
 * has none; with `cidr=`, the first address inside the CIDRs), that address's subnet, and the
 * link MTU. `netns`: the agent's own (null); tests give one of theirs.
 */
export async function readUnderlay(
  dp: Dataplane,
  selector: string,
  netns: NetnsRef = null,
): Promise<Underlay> {
  const sel = parseUnderlaySelector(selector);
  const global = (addrs: AddrInfo[]) => addrs.filter((a) => a.scope === "global");
  const firstOf = (addrs: AddrInfo[]) => addrs.find((x) => x.family === 4) ?? addrs[0];
  let link: LinkInfo | undefined;
  let addr: AddrInfo | undefined;
  if (sel.kind === "name") {
    link = await dp.link(netns, sel.name);
    if (!link)
      throw new TartanError("agent-underlay-missing", `underlay interface ${sel.name} does not exist`, HINT);
    addr = firstOf(global(await dp.addrs(netns, sel.name)));
    if (!addr) {
      throw new TartanError(
        "agent-underlay-no-address",
        `underlay interface ${sel.name} has no global address`,
        "give the interface its node address first (the agent advertises it to the other nodes)",
      );
    }
  } else {
    const links = (await dp.links(netns))
      .filter((l) => !NOT_UNDERLAY.test(l.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const all = global(await dp.addrs(netns));
    const addrsOf = (l: LinkInfo) => all.filter((a) => a.dev === l.name);
    if (sel.kind === "interface") {
      link = links.find((l) => sel.pattern.test(l.name) && addrsOf(l).length > 0);
      addr = link && firstOf(addrsOf(link));
    } else if (sel.kind === "cidr") {
      for (const l of links) {
        addr = addrsOf(l).find((a) => sel.cidrs.some((c) => contains(c, parseIp(a.cidr.split("/")[0]!))));
        if (addr) {
          link = l;
          break;
        }
      }
    } else {
      const byMetric = (f: 4 | 6) =>
        dp
          .routes(netns, f)
          .then((rs) =>
            rs
              .filter((r) => r.dst === "default" && r.table === 254 && r.dev && r.type === undefined)
              .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0)),
          );
      const route = (await byMetric(4))[0] ?? (await byMetric(6))[0];
      link = route && links.find((l) => l.name === route.dev);
      addr = link && firstOf(addrsOf(link));
    }
    if (!link || !addr) {
      throw new TartanError(
        "agent-underlay-missing",
        `underlayInterface ${selector}: no interface with a global address matches (seen: ${
          links
            .map(
              (l) =>
                `${l.name} ${
                  addrsOf(l)
                    .map((a) => a.cidr)
                    .join(" ") || "(no global address)"
                }`,
            )
            .join(", ") || "none"
        })`,
        HINT,
      );
    }
  }
  const cidr = parseCidr(addr.cidr);
  return {
    interface: link.name,
    address: addr.cidr.split("/")[0]!,
    subnet: formatNetwork(cidr),
    mtu: link.mtu,
  };
}
