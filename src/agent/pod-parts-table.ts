import { FNV_OFFSET, fnv1a } from "../model/fnv1a.ts";
import { InternTable } from "../model/intern-table.ts";
import type { PodSpec } from "../model/k8s-resources.ts";

type Labels = Record<string, string>;
type Containers = NonNullable<PodSpec["containers"]>;
/** A container as the datastore gives it (read, never kept: only the fields the strip copies). */
type RawContainer = Containers[number];

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

function containersHash(cs: readonly RawContainer[]): number {
  let h = FNV_OFFSET;
  for (const c of cs) {
    h = mix(c.name, h ^ 0x7c);
    for (const p of c.ports ?? []) h = mix(p.protocol, mix(p.containerPort, mix(p.name, h ^ 0x2c)));
  }
  return h;
}

/**
 * A stripped spec by its node and hostNetwork only: its containers are compared by identity
 * (shared first), and the pods of one node have few distinct ones.
 */
function specHash(s: PodSpec): number {
  return mix(s.hostNetwork, mix(s.nodeName, FNV_OFFSET));
}

/**
 * Shared containers `x` (a strip's copy) against a datastore object's containers `raw`, as the
 * strip would copy them: a container's name always; a port's name and protocol only when not
 * undefined, its containerPort always; ports only when the container has any (truthy). Also the
 * equality of two copies (a copy's absent fields are its undefined ones).
 */
function sameAsCopy(x: Containers, raw: readonly RawContainer[]): boolean {
  if (x.length !== raw.length) return false;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]!;
    const c = raw[i]!;
    if (a.name !== c.name || "ports" in a !== Boolean(c.ports)) return false;
    if (!c.ports) continue;
    const pa = a.ports!;
    const pc = c.ports;
    if (pa.length !== pc.length) return false;
    for (let j = 0; j < pa.length; j++) {
      const p = pa[j]!;
      const q = pc[j]!;
      if (p.name !== q.name || p.containerPort !== q.containerPort || p.protocol !== q.protocol) return false;
      if ("name" in p !== (q.name !== undefined) || "protocol" in p !== (q.protocol !== undefined))
        return false;
    }
  }
  return true;
}

/** The strip's copy of a datastore object's containers (only the fields policy reads), frozen. */
function copyContainers(raw: readonly RawContainer[]): Containers {
  const out: Containers = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    const sc: Containers[number] = { name: c.name };
    if (c.ports) {
      const ports: NonNullable<Containers[number]["ports"]> = [];
      for (let j = 0; j < c.ports.length; j++) {
        const cp = c.ports[j]!;
        const sp = {} as (typeof ports)[number];
        if (cp.name !== undefined) sp.name = cp.name;
        sp.containerPort = cp.containerPort;
        if (cp.protocol !== undefined) sp.protocol = cp.protocol;
        ports.push(sp);
      }
      sc.ports = ports;
    }
    out.push(sc);
  }
  return frozenContainers(out);
}

/** What the spec lookup compares: the datastore object's spec and its containers, shared already. */
interface SpecProbe {
  spec: PodSpec | undefined;
  containers: Containers | undefined;
}

/**
 * The shared spec `s` against what the strip's copy of `probe` would be (see stripPod's field
 * rules); containers by identity (they are shared first).
 */
function sameAsSpecCopy(s: PodSpec, probe: SpecProbe): boolean {
  const raw = probe.spec;
  const node = raw?.nodeName;
  const host = raw?.hostNetwork;
  return (
    s.nodeName === node &&
    s.hostNetwork === host &&
    s.containers === probe.containers &&
    "nodeName" in s === (node !== undefined) &&
    "hostNetwork" in s === (host !== undefined) &&
    "containers" in s === (probe.containers !== undefined)
  );
}

const probe: SpecProbe = { spec: undefined, containers: undefined };
const NO_SPEC: PodSpec = Object.freeze({});

function copySpec(probe: SpecProbe): PodSpec {
  const raw = probe.spec;
  const out: PodSpec = {};
  if (raw?.nodeName !== undefined) out.nodeName = raw.nodeName;
  if (raw?.hostNetwork !== undefined) out.hostNetwork = raw.hostNetwork;
  if (probe.containers) out.containers = probe.containers;
  return Object.freeze(out);
}

const frozenCopy = (l: Labels): Labels => Object.freeze({ ...l });

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
  private readonly containersTable = new InternTable<Containers>(containersHash, sameAsCopy);
  private readonly specTable = new InternTable<PodSpec>(specHash, (a, b) =>
    sameAsSpecCopy(a, { spec: b, containers: b.containers }),
  );
  private readonly namespaceTable = new InternTable<string>(
    (s) => fnv1a(s, FNV_OFFSET),
    (a, b) => a === b,
  );

  /**
   * The shared text equal to namespace `ns`: every pod's datastore object parses to a string of
   * its own (~50 bytes each, ~0.5 MB at 10k pods), and a cluster has few namespaces. Anything
   * but a string is returned as it is: validation, after the strip, refuses it.
   */
  namespace(ns: unknown): unknown {
    return typeof ns === "string" ? this.namespaceTable.intern(ns) : ns;
  }

  /**
   * The shared labels equal to `l` (a frozen copy of `l` the first time). Anything but an
   * object of strings is returned as it is: validation, after the strip, refuses it.
   */
  labels(l: unknown): unknown {
    if (typeof l !== "object" || l === null || Array.isArray(l)) return l;
    for (const k in l) if (typeof (l as Labels)[k] !== "string") return l;
    return this.labelsTable.intern(l as Labels, frozenCopy);
  }

  /**
   * The shared copy of a datastore object's containers (names; ports' name, number, protocol),
   * made only when no equal one is held. Throws a TypeError for ports that are not a list.
   */
  containersOf(raw: readonly RawContainer[]): Containers {
    for (let i = 0; i < raw.length; i++) {
      const ports = raw[i]!.ports;
      if (ports && !Array.isArray(ports)) throw new TypeError("ports is not a list");
    }
    return this.containersTable.find(containersHash(raw), raw, sameAsCopy, copyContainers);
  }

  /**
   * The shared copy of a datastore object's spec as policy reads it (node, hostNetwork and
   * `containers`, shared first by containersOf), made only when no equal one is held.
   */
  specOf(spec: PodSpec | undefined, containers: Containers | undefined): PodSpec {
    // One probe object for every call (nothing to allocate per pod), emptied after the lookup.
    probe.spec = spec;
    probe.containers = containers;
    try {
      // The copy's hash: its node and hostNetwork are the datastore object's.
      return this.specTable.find(specHash(spec ?? NO_SPEC), probe, sameAsSpecCopy, copySpec);
    } finally {
      probe.spec = undefined;
      probe.containers = undefined;
    }
  }
}
