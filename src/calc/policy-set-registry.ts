import { type Cidr, contains, formatNetwork, networkOf, parseCidr } from "../model/cidr.ts";
import type { IpFamily } from "../model/ip.ts";
import type { IPBlock, Protocol } from "../model/k8s-resources.ts";
import { shortHash } from "./policy-names.ts";
import { type PeerKey, peerKeyText } from "./policy-peer-key.ts";
import type { PeerSource } from "./policy-peer-source.ts";
import type { AddrSet, PolicySet } from "./policy-set.ts";

/** A set a rule names, and how to build it (replayed by later compiles of the same policy). */
export interface SetThunk {
  name: string;
  make: () => PolicySet;
  /** peerKeyText of the selector peer whose pods the set holds (pod and named-port sets). */
  peer?: string;
}

/** The sets an ipBlock peer is matched with: its CIDR, and its exceptions when it has any. */
export interface IpBlockSets {
  family: IpFamily;
  set: string;
  notIn?: string;
}

/**
 * The named sets one compile needs, created on first use and shared by every rule, policy and pod
 * that names the same thing: pod-IP sets per selector peer and family, ipBlock interval sets, and
 * (ip, proto, port) sets for named ports on egress. Rules refer to them by name.
 */
export class SetRegistry {
  readonly sets = new Map<string, PolicySet>();
  /** How each set of `sets` was made: a later compile with only membership changes remakes some. */
  readonly thunks = new Map<string, SetThunk>();
  /** Set names by what defines them: each distinct set is hashed once per compile. */
  private readonly names = new Map<string, string>();

  constructor(private readonly source: PeerSource) {}

  private nameOf(prefix: string, text: string): string {
    const k = `${prefix}|${text}`;
    let n = this.names.get(k);
    if (n === undefined) {
      n = `${prefix}-${shortHash(text)}`;
      this.names.set(k, n);
    }
    return n;
  }

  private rec: SetThunk[] | undefined;

  /** Runs fn, appending every set it names to `into` (for replay in a later compile). */
  recording<T>(into: SetThunk[], fn: () => T): T {
    const outer = this.rec;
    this.rec = into;
    try {
      return fn();
    } finally {
      this.rec = outer;
      outer?.push(...into);
    }
  }

  /** Registers the sets a recorded build named (their elements as the source has them now). */
  replay(thunks: readonly SetThunk[]): void {
    for (const t of thunks) this.ensure(t);
    this.rec?.push(...thunks);
  }

  private ensure(t: SetThunk): void {
    if (this.sets.has(t.name)) return;
    this.sets.set(t.name, t.make());
    this.thunks.set(t.name, t);
  }

  /**
   * The thunk this compile already holds for set `name`, if any. Every rule that names a set
   * would otherwise record a thunk of its own (a closure and its scope) in the per-policy memo:
   * ~4 per set at 10k pods / 1k policies, kept between the compile's garbage in the JS heap.
   * One thunk per set name is what `sets` keeps anyway (the first one made).
   */
  private known(name: string): string | undefined {
    const t = this.thunks.get(name);
    return t === undefined ? undefined : this.use(t);
  }

  private use(t: SetThunk): string {
    this.ensure(t);
    this.rec?.push(t);
    return t.name;
  }

  /** `pods4-<hash>`: the peer's pod IPs of one family. */
  podSet(p: PeerKey, family: IpFamily): string {
    const text = peerKeyText(p);
    const name = this.nameOf(`pods${family}`, text);
    const known = this.known(name);
    if (known !== undefined) return known;
    const source = this.source;
    return this.use({
      name,
      peer: text,
      make: () => ({
        name,
        kind: "set",
        type: "addr",
        family,
        interval: false,
        elements: source.podSetElements(p, text, family),
      }),
    });
  }

  /** `nport4-<hash>`: (ip, proto, port) of the peer's pods that have this named port. */
  namedPortSet(p: PeerKey, protocol: Protocol, portName: string, family: IpFamily): string {
    const text = peerKeyText(p);
    const name = this.nameOf(`nport${family}`, `${text}|${protocol}|${portName}`);
    const known = this.known(name);
    if (known !== undefined) return known;
    const source = this.source;
    return this.use({
      name,
      peer: text,
      make: () => ({
        name,
        kind: "set",
        type: "addr-proto-port",
        family,
        elements: source.namedPortElements(p, text, protocol, portName, family),
      }),
    });
  }

  /**
   * The sets of an ipBlock: `blk4-<h>` holding its CIDR and `blkx4-<h>` its exceptions, if any.
   * The CIDR is masked to its network (host bits are legal input); exceptions of the other family
   * or outside the block are dropped, nested ones merged (an interval set refuses overlaps).
   */
  ipBlockSets(b: IPBlock): IpBlockSets {
    const cidr = parseCidr(b.cidr, "ipBlock.cidr");
    const family = cidr.ip.family;
    const set = this.intervalSet(`blk${family}`, [formatNetwork(cidr)], family);
    const except = normaliseExcept(cidr, b.except ?? []);
    if (except.length === 0) return { family, set };
    return { family, set, notIn: this.intervalSet(`blkx${family}`, except, family) };
  }

  private intervalSet(prefix: string, cidrs: string[], family: IpFamily): string {
    const name = `${prefix}-${shortHash(cidrs.join(","))}`;
    const known = this.known(name);
    if (known !== undefined) return known;
    const set: AddrSet = { name, kind: "set", type: "addr", family, interval: true, elements: cidrs };
    return this.use({ name, make: () => set });
  }
}

function normaliseExcept(block: Cidr, except: readonly string[]): string[] {
  const inside = except
    .map((e) => parseCidr(e, "ipBlock.except"))
    .filter((e) => e.ip.family === block.ip.family && e.prefix >= block.prefix && contains(block, e.ip))
    .map((e) => ({ ip: networkOf(e), prefix: e.prefix }))
    .sort((a, b) => a.prefix - b.prefix);
  const kept: Cidr[] = [];
  for (const e of inside) if (!kept.some((k) => contains(k, e.ip))) kept.push(e);
  return [...new Set(kept.map(formatNetwork))].sort();
}
