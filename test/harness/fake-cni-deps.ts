// CniDeps for unit tests of the CNI verbs, without root: the fake kernel (FakeDataplane), the fake
// nftables (FakeNft), one MemoryIpamStore per data directory, HostFacts read from the fake kernel's
// host namespace, and a recording runner for delegated plugins. `cni.invoke(...)` runs runCni the
// way a runtime would (env + stdin) and returns the parsed stdout.
import type { CniDeps, PluginOutput } from "../../src/cni/cni-deps.ts";
import { runCni } from "../../src/cni/run-cni.ts";
import { runIpamPlugin } from "../../src/cni/run-ipam-plugin.ts";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import type { FakeNetnsState } from "../../src/dataplane/fake/fake-netns-state.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import type { HostFacts } from "../../src/dataplane/host-facts.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";

export type Verb = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS" | "VERSION";

export interface Invocation {
  command: Verb;
  containerId?: string;
  netns?: string;
  ifname?: string;
  cniArgs?: string;
  cniPath?: string;
  /** Overrides/removes (undefined) env variables after the defaults are filled in. */
  env?: Record<string, string | undefined>;
}

export interface Outcome {
  exitCode: number;
  stdout: string;
  /** stdout parsed as JSON, when it is JSON. */
  json: Record<string, unknown> | undefined;
}

export interface PluginCall {
  binary: string;
  env: Record<string, string>;
  stdin: string;
}

/**
 * The fake kernel's namespaces, read synchronously: HostFacts is synchronous by design (it is
 * answered from /sys and /proc without spawning) while the Dataplane port is async.
 */
function namespaces(dp: FakeDataplane): Map<NetnsRef, FakeNetnsState> {
  return (dp as unknown as { nss: Map<NetnsRef, FakeNetnsState> }).nss;
}

export class FakeCni {
  readonly dp = new FakeDataplane();
  readonly nft = new FakeNft();
  readonly stores = new Map<string, MemoryIpamStore>();
  readonly markers = new Map<string, string>();
  readonly pluginCalls: PluginCall[] = [];
  readonly logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  /** Plugins "installed" along CNI_PATH: type -> handler. */
  readonly plugins = new Map<string, (call: PluginCall) => PluginOutput>();
  /** Paths that name the plugin's own (host) namespace, like /proc/self/ns/net. */
  readonly ownNetnsPaths = new Set(["/proc/self/ns/net"]);
  /** When set, openStore throws this (a datastore that cannot be opened). */
  storeFailure: Error | undefined;
  markerWrites = 0;
  private rnd = 0;
  readonly deps: CniDeps;

  constructor() {
    const host: HostFacts = {
      linkExists: (name) => namespaces(this.dp).get(null)?.links.has(name) ?? false,
      isBridge: (name) => namespaces(this.dp).get(null)?.links.get(name)?.kind === "bridge",
      isOwnNetns: (path) => this.ownNetnsPaths.has(path),
      defaultRouteMtu: () => {
        const ns = namespaces(this.dp).get(null);
        const def = ns?.routes.find((r) => r.family === 4 && r.dst === "default" && r.table === 254);
        return def?.dev === undefined ? undefined : ns?.links.get(def.dev)?.mtu;
      },
      setupKey: () => "boot-1/net:[4026531840]",
      pathExists: (path) =>
        path !== "" &&
        (namespaces(this.dp).has(path) || this.ownNetnsPaths.has(path) || this.stores.has(path)),
    };
    this.deps = {
      dataplane: this.dp,
      nft: this.nft,
      host,
      openStore: (dir) => {
        if (this.storeFailure) throw this.storeFailure;
        return this.store(dir);
      },
      execPlugin: async (binary, env, stdin) => {
        const call = { binary, env, stdin };
        this.pluginCalls.push(call);
        const type = binary.split("/").pop() ?? "";
        const handler = this.plugins.get(type);
        if (!handler) return { code: 127, stdout: "", stderr: `${binary}: not found` };
        return handler(call);
      },
      findPlugin: (type, path) =>
        this.plugins.has(type) && path.length > 0 ? `${path[0]}/${type}` : undefined,
      readMarker: (path) => this.markers.get(path),
      writeMarker: (path, content) => {
        this.markerWrites++;
        this.markers.set(path, content);
      },
      removeMarker: (path) => {
        this.markers.delete(path);
      },
      log: (level, msg, fields) => {
        this.logs.push({ level, msg, ...(fields ? { fields } : {}) });
      },
      randomBytes: (n) => {
        const out = new Uint8Array(n);
        for (let i = 0; i < n; i++) out[i] = (++this.rnd * 37 + i) & 0xff;
        return out;
      },
      env: {},
    };
  }

  /** The in-memory store of a data directory (created on first use, like the sqlite adapter). */
  store(dir: string): MemoryIpamStore {
    let s = this.stores.get(dir);
    if (!s) {
      s = new MemoryIpamStore();
      this.stores.set(dir, s);
    }
    return s;
  }

  /** A container namespace, registered in the fake kernel. */
  netns(name: string): string {
    const path = `/run/netns/${name}`;
    this.dp.addNetns(path);
    return path;
  }

  /** The env a runtime sets for this verb (libcni sets only what the verb needs). */
  envFor(inv: Invocation): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = {
      CNI_COMMAND: inv.command,
      CNI_PATH: inv.cniPath ?? "/opt/cni/bin",
    };
    if (inv.command === "ADD" || inv.command === "DEL" || inv.command === "CHECK") {
      env.CNI_CONTAINERID = inv.containerId ?? "ctr1";
      env.CNI_NETNS = inv.netns ?? "";
      env.CNI_IFNAME = inv.ifname ?? "eth0";
      if (inv.cniArgs !== undefined) env.CNI_ARGS = inv.cniArgs;
    }
    for (const [k, v] of Object.entries(inv.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    return env;
  }

  async invoke(inv: Invocation, config: unknown): Promise<Outcome> {
    const stdin = typeof config === "string" ? config : JSON.stringify(config);
    const env = this.envFor(inv);
    this.deps.env = env;
    const out = await runCni(this.deps, env, stdin);
    return { exitCode: out.exitCode, stdout: out.stdout, json: parse(out.stdout) };
  }

  /** The same through the standalone tartan-ipam entry point. */
  async invokeIpam(inv: Invocation, config: unknown): Promise<Outcome> {
    const stdin = typeof config === "string" ? config : JSON.stringify(config);
    const env = this.envFor(inv);
    this.deps.env = env;
    const out = await runIpamPlugin(this.deps, env, stdin);
    return { exitCode: out.exitCode, stdout: out.stdout, json: parse(out.stdout) };
  }

  /** Reservations of a network in a data directory, as "ip containerId/ifname". */
  reservations(dir: string, network: string): string[] {
    return this.store(dir)
      .transaction((tx) => tx.allocations(network))
      .map((a) => `${a.ip} ${a.containerId}/${a.ifname}`)
      .sort();
  }

  attachments(dir: string, network: string): string[] {
    return this.store(dir)
      .transaction((tx) => tx.attachments(network))
      .map((a) => `${a.containerId}/${a.ifname}`)
      .sort();
  }

  /** Names of the links in a namespace (null = host). */
  async linkNames(netns: NetnsRef): Promise<string[]> {
    return (await this.dp.links(netns)).map((l) => l.name);
  }

  /** Host links whose name marks them as tartan pod veths. */
  async hostVeths(): Promise<string[]> {
    return (await this.linkNames(null)).filter((n) => /^tt[0-9a-f]{11}$/.test(n));
  }
}

function parse(s: string): Record<string, unknown> | undefined {
  if (s.trim() === "") return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export interface ConfOptions {
  version?: string;
  name?: string;
  mode?: "bridge" | "routed";
  ipMasq?: boolean;
  mtu?: number | undefined;
  v4?: string | undefined;
  v6?: string | undefined;
  /** Replaces the range sets entirely. */
  ranges?: unknown[];
  routes?: { dst: string; gw?: string }[];
  dataDir?: string;
  extra?: Record<string, unknown>;
}

/** A tartan network config as the runtime would send it (one plugin object of a conflist). */
export function tartanConf(o: ConfOptions = {}): Record<string, unknown> {
  const ranges: unknown[] = o.ranges ?? [];
  if (!o.ranges) {
    if (o.v4 !== undefined) ranges.push([{ subnet: o.v4 }]);
    if (o.v6 !== undefined) ranges.push([{ subnet: o.v6 }]);
    if (!("v4" in o) && !("v6" in o)) ranges.push([{ subnet: "10.88.0.0/16" }]);
  }
  const conf: Record<string, unknown> = {
    cniVersion: o.version ?? "1.1.0",
    name: o.name ?? "net1",
    type: "tartan",
    mode: o.mode ?? "bridge",
    bridge: "tartan0",
    ipMasq: o.ipMasq ?? false,
    ipam: {
      type: "tartan-ipam",
      ranges,
      routes: o.routes ?? [{ dst: "0.0.0.0/0" }],
      dataDir: o.dataDir ?? "/fake/ipam",
    },
    ...o.extra,
  };
  if (o.mtu !== undefined) conf.mtu = o.mtu;
  else if (!("mtu" in o)) conf.mtu = 1500;
  return conf;
}
