import { type Cidr, parseCidr } from "./cidr.ts";
import { InvalidValueError } from "./invalid-value.ts";

/**
 * How the agent finds the interface that carries node-to-node traffic (`underlayInterface`).
 * The agent config is shared by every node of a DaemonSet, and nodes do not all name their NIC
 * alike, so besides a plain name it takes Calico's autodetection forms and Flannel's default:
 * - `eth0`: that interface;
 * - `interface=REGEX`: the first interface, in name order, whose name matches and that has a
 *   global address;
 * - `cidr=CIDR[,CIDR…]`: the first interface with a global address inside one of the CIDRs (that
 *   address is the node's);
 * - `default-route`: the interface of the main table's IPv4 default route (lowest metric; IPv6's
 *   when there is no IPv4 one).
 */
export type UnderlaySelector =
  | { kind: "name"; name: string }
  | { kind: "interface"; pattern: RegExp }
  | { kind: "cidr"; cidrs: Cidr[] }
  | { kind: "default-route" };

/** What the forms look like, for error hints. */
export const UNDERLAY_SELECTOR_FORMS =
  "an interface name, interface=REGEX, cidr=CIDR[,CIDR…] or default-route";

const IFNAME_RE = /^[^\s/:=]{1,15}$/;

export function parseUnderlaySelector(text: string, field = "underlayInterface"): UnderlaySelector {
  if (text === "default-route") return { kind: "default-route" };
  if (text.startsWith("interface=")) {
    const source = text.slice("interface=".length);
    if (!source) throw new InvalidValueError(field, `"${text}": interface= needs a regular expression`);
    try {
      return { kind: "interface", pattern: new RegExp(source) };
    } catch (e) {
      throw new InvalidValueError(
        field,
        `"${text}": not a regular expression (${e instanceof Error ? e.message : e})`,
      );
    }
  }
  if (text.startsWith("cidr=")) {
    const list = text.slice("cidr=".length).split(",");
    if (list.some((c) => !c.trim()))
      throw new InvalidValueError(field, `"${text}": cidr= needs one or more CIDRs, comma separated`);
    return { kind: "cidr", cidrs: list.map((c) => parseCidr(c.trim(), field)) };
  }
  if (!IFNAME_RE.test(text))
    throw new InvalidValueError(
      field,
      `"${text}" is not ${UNDERLAY_SELECTOR_FORMS} (names: 1-15 characters, no space, / or :)`,
    );
  return { kind: "name", name: text };
}
