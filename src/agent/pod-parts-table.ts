import { FNV_OFFSET, fnv1a } from "../model/fnv1a.ts";
import { InternTable } from "../model/intern-table.ts";
import type { PodSpec } from "../model/k8s-resources.ts";

type Labels = Record<string, string>;
type Containers = NonNullable<PodSpec["containers"]>;

function labelsHash(l: Labels): number {
  let h = FNV_OFFSET;
  for (const k in l) h = fnv1a(l[k]!, fnv1a(k, h) ^ 0x3d);
  return h;
}

/**
 * The same keys with the same values. Order is not compared (it would cost two key arrays per
 * pod): the hash is order-dependent, so a different order nearly always lands elsewhere, and
 * labels are a map either way.
 */
function sameLabels(a: Labels, b: Labels): boolean {
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

/** A field's value into the hash: numbers without a string conversion. */
const mix = (v: unknown, h: number): number =>
  typeof v === "number"
    ? Math.imul(h ^ (v | 0), 16777619)
    : typeof v === "string"
      ? fnv1a(v, h)
      : fnv1a(String(v), h);

function containersHash(cs: Containers): number {
  let h = FNV_OFFSET;
  for (const c of cs) {
    h = mix(c.name, h ^ 0x7c);
    for (const p of c.ports ?? []) h = mix(p.protocol, mix(p.containerPort, mix(p.name, h ^ 0x2c)));
  }
  return h;
}

/** Same containers, ports and fields, absent fields included (the strip sets only what is there). */
function sameContainers(a: Containers, b: Containers): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || "ports" in x !== "ports" in y) return false;
    const px = x.ports ?? [];
    const py = y.ports ?? [];
    if (px.length !== py.length) return false;
    for (let j = 0; j < px.length; j++) {
      const p = px[j]!;
      const q = py[j]!;
      if (p.name !== q.name || p.containerPort !== q.containerPort || p.protocol !== q.protocol) return false;
      if ("name" in p !== "name" in q || "protocol" in p !== "protocol" in q) return false;
    }
  }
  return true;
}

/**
 * A stripped spec by its node and hostNetwork only: its containers are compared by identity
 * (shared first), and the pods of one node have few distinct ones.
 */
function specHash(s: PodSpec): number {
  return mix(s.hostNetwork, mix(s.nodeName, FNV_OFFSET));
}

/** Same fields present with the same values; containers by identity (they are shared first). */
function sameSpec(a: PodSpec, b: PodSpec): boolean {
  return (
    a.nodeName === b.nodeName &&
    a.hostNetwork === b.hostNetwork &&
    a.containers === b.containers &&
    "nodeName" in a === "nodeName" in b &&
    "hostNetwork" in a === "hostNetwork" in b &&
    "containers" in a === "containers" in b
  );
}

function frozenContainers(cs: Containers): Containers {
  for (const c of cs) {
    if (c.ports) {
      for (const p of c.ports) Object.freeze(p);
      Object.freeze(c.ports);
    }
    Object.freeze(c);
  }
  return Object.freeze(cs) as Containers;
}

/**
 * The parts of a stripped Pod that repeat from pod to pod — its labels, its containers' names and
 * ports, its spec (those and the node) — shared: one frozen copy per distinct value (InternTable). Frozen, since every pod with
 * the same labels holds the same object: a reader that wrote into it would change them all.
 */
export class PodPartsTable {
  private readonly labelsTable = new InternTable<Labels>(labelsHash, sameLabels);
  private readonly containersTable = new InternTable<Containers>(containersHash, sameContainers);
  private readonly specTable = new InternTable<PodSpec>(specHash, sameSpec);

  /**
   * The shared labels equal to `l` (a frozen copy of `l` the first time). Anything but an
   * object of strings is returned as it is: validation, after the strip, refuses it.
   */
  labels(l: unknown): unknown {
    if (typeof l !== "object" || l === null || Array.isArray(l)) return l;
    for (const k in l) if (typeof (l as Labels)[k] !== "string") return l;
    return this.labelsTable.intern(l as Labels, (x) => Object.freeze({ ...x }));
  }

  /** The shared containers equal to `cs`, built by the strip (so never the caller's); frozen. */
  containers(cs: Containers): Containers {
    return this.containersTable.intern(cs, frozenContainers);
  }

  /**
   * The shared spec equal to `s` (node, hostNetwork, containers: the pods of one workload on one
   * node have the same), built by the strip with its containers shared already; frozen.
   */
  spec(s: PodSpec): PodSpec {
    return this.specTable.intern(s, Object.freeze);
  }
}
