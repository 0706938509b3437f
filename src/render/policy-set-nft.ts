import type { PolicySet } from "../calc/policy-set.ts";
import type { IpFamily } from "../model/ip.ts";

const addrType = (f: IpFamily): string => (f === 4 ? "ipv4_addr" : "ipv6_addr");

/** The canonical declaration body, shared by the IR's sets and the reading of the kernel's sets. */
export function setDecl(type: string, opts: { map?: string; interval?: boolean } = {}): string {
  return `type ${type}${opts.map ? ` : ${opts.map}` : ""};${opts.interval ? " flags interval;" : ""}`;
}

/** The declaration body of a set or map of the IR, e.g. "type ipv4_addr; flags interval;". */
export function renderSetDecl(s: PolicySet): string {
  switch (s.type) {
    case "addr":
      return setDecl(addrType(s.family), { interval: s.interval });
    case "addr-proto-port":
      return setDecl(`${addrType(s.family)} . inet_proto . inet_service`);
    case "addr-verdict":
      return setDecl(addrType(s.family), { map: "verdict" });
  }
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
        : s.elements.map((e) => `${e.addr} : jump ${e.jump}`);
    texts.set(s.elements, t);
  }
  return t;
}
