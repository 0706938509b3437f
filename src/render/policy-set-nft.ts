import type { PolicySet } from "../calc/policy-set.ts";
import type { IpFamily } from "../model/ip.ts";
import { nftName } from "./nft-text.ts";

const addrType = (f: IpFamily): string => (f === 4 ? "ipv4_addr" : "ipv6_addr");

/** The canonical declaration body, shared by the IR's sets and the reading of the kernel's sets. */
export function setDecl(type: string, opts: { map?: string; interval?: boolean } = {}): string {
  return `type ${type}${opts.map ? ` : ${opts.map}` : ""};${opts.interval ? " flags interval;" : ""}`;
}

const declOf = (type: PolicySet["type"], f: IpFamily, interval: boolean): string => {
  switch (type) {
    case "addr":
      return setDecl(addrType(f), { interval });
    case "addr-proto-port":
      return setDecl(`${addrType(f)} . inet_proto . inet_service`);
    case "addr-verdict":
      return setDecl(addrType(f), { map: "verdict" });
  }
};
/** Every declaration there is, by type, family and interval flag (a delta looks one up per set). */
const DECLS = Object.fromEntries(
  (["addr", "addr-proto-port", "addr-verdict"] as const).map((t) => [
    t,
    { 4: [declOf(t, 4, false), declOf(t, 4, true)], 6: [declOf(t, 6, false), declOf(t, 6, true)] },
  ]),
) as Record<PolicySet["type"], Record<IpFamily, [string, string]>>;

/** The declaration body of a set or map of the IR, e.g. "type ipv4_addr; flags interval;". */
export function renderSetDecl(s: PolicySet): string {
  return DECLS[s.type][s.family][s.type === "addr" && s.interval ? 1 : 0];
}

/** Rendered element arrays by the IR's element array: an unchanged set keeps its text array (the delta skips it by identity). */
const texts = new WeakMap<readonly unknown[], string[]>();

/** The elements of a set of the IR in nft's text ("10.0.0.1", "10.0.0.1 . tcp . 80", "10.0.0.1 : jump ing/a/b"). */
export function setElementTexts(s: PolicySet): string[] {
  // Address sets hold their text already.
  if (s.type === "addr") return s.elements;
  let t = texts.get(s.elements);
  if (!t) {
    t =
      s.type === "addr-proto-port"
        ? s.elements.map((e) => `${e.addr} . ${e.protocol.toLowerCase()} . ${e.port}`)
        : s.elements.map((e) => `${e.addr} : jump ${nftName(e.jump)}`);
    texts.set(s.elements, t);
  }
  return t;
}
