// Property-based test of the plugin's input (issue 12 point 6), shared by the bounded CI test
// (test/integration/cni-fuzz.test.ts) and the longer run (scripts/fuzz-cni.ts --runs N).
//
// Each case generates a CNI environment and a stdin (a valid tartan config with mutations: wrong
// types, huge strings, control characters, unknown fields, nested ipam; sometimes not JSON at
// all), runs the REAL binary for ADD then DEL with them inside a private "host" namespace, and
// checks: exit 0 or a JSON error with an integer code and a string msg; no stack trace on stdout;
// after the DEL, no pod veth or stray link left in the host namespace and no reservation or
// attachment left in the IPAM store. Paths the plugin may write to (dataDir, CNI_NETNS, CNI_PATH)
// are drawn only from safe sets inside the test's own directory and namespaces, never the
// machine's (no /proc/1/ns/net, no /var/lib).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { openSqliteIpamStore } from "../../src/datastore/local/sqlite-ipam-store.ts";
import { run } from "../../src/exec/run.ts";
import type { TestNetns } from "./netns.ts";

export interface FuzzBed {
  /** Directory holding `tartan` and `tartan-ipam` (privatePluginBin). */
  bin: string;
  /** The namespace the plugin runs in, as the node. */
  host: TestNetns;
  /** A pod namespace, reused: a successful ADD's veth is removed by the DEL that follows. */
  pod: TestNetns;
  /** The test's own directory: every dataDir generated lies under it. */
  dir: string;
}

export interface FuzzCase {
  env: Record<string, string | undefined>;
  stdin: string;
}

const REFERENCE = "/usr/lib/cni";
/** Directories under the bed where tartan's stores may be. */
const STORE_DIRS = ["ipam", "other", "state"];
/** Reference plugins a random ipam.type could name and that would do more than fail. */
const REAL_PLUGINS = new Set(readdirSyncSafe(REFERENCE));

function readdirSyncSafe(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

const nasty = fc.constantFrom(
  "",
  " ",
  "a b",
  "a/b",
  "a:b",
  'a"b',
  "a'b",
  "a\tb",
  "a\nb",
  "a%b",
  "a@b",
  "-x",
  "..",
  "é",
  "\u0000",
  "\u001b[31m",
  "$(id)",
  "{}",
  "x".repeat(16),
  "x".repeat(300),
);
const hugeString = fc.constantFrom(200, 5000, 70_000, 1_100_000).map((n) => "y".repeat(n));
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 3, arbitrary: nasty },
  { weight: 1, arbitrary: hugeString },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null)) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }) },
);

function safeDirs(bed: FuzzBed): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(join(bed.dir, "ipam"), join(bed.dir, "other"), "rel/ipam", "./x", ""),
    fc.oneof(fc.integer(), fc.constant(null), fc.boolean()),
  );
}

function ipamType(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom("tartan-ipam", "tartan-ipam", "host-local", "tartan", "", "a/b", "nonexistent"),
    fc.string({ maxLength: 12 }).map((s) => (REAL_PLUGINS.has(s) ? `zz-${s}` : s)),
    anyValue.filter((v) => typeof v !== "string"),
  );
}

/** Keys of a tartan config (and its ipam) a mutation may replace, add or delete. */
function mutation(bed: FuzzBed): fc.Arbitrary<(c: Record<string, unknown>) => void> {
  const top = fc.constantFrom(
    "cniVersion",
    "name",
    "type",
    "mode",
    "bridge",
    "mtu",
    "ipMasq",
    "hairpinMode",
    "dns",
    "runtimeConfig",
    "args",
    "prevResult",
    "cni.dev/valid-attachments",
    "unknownField",
  );
  const ipamKey = fc.constantFrom("ranges", "routes", "nodeBlocks", "unknownIpamField", "subnet", "ipam");
  return fc.oneof(
    fc.tuple(top, anyValue).map(([k, v]) => (c: Record<string, unknown>) => {
      c[k] = v;
    }),
    top.map((k) => (c: Record<string, unknown>) => {
      delete c[k];
    }),
    fc.tuple(ipamKey, anyValue).map(([k, v]) => (c: Record<string, unknown>) => {
      if (typeof c.ipam === "object" && c.ipam !== null) (c.ipam as Record<string, unknown>)[k] = v;
    }),
    ipamType().map((t) => (c: Record<string, unknown>) => {
      if (typeof c.ipam === "object" && c.ipam !== null) (c.ipam as Record<string, unknown>).type = t;
    }),
    safeDirs(bed).map((d) => (c: Record<string, unknown>) => {
      if (typeof c.ipam === "object" && c.ipam !== null) (c.ipam as Record<string, unknown>).dataDir = d;
    }),
    safeDirs(bed).map((d) => (c: Record<string, unknown>) => {
      c.dataDir = d;
    }),
    anyValue.map((v) => (c: Record<string, unknown>) => {
      c.ipam = v;
    }),
    fc
      .constantFrom("10.66.0.0/24", "fd66::/64", "10.66.0.0/31", "300.1.1.1/24", "10.66.0.0")
      .map((subnet) => (c: Record<string, unknown>) => {
        if (typeof c.ipam === "object" && c.ipam !== null)
          (c.ipam as Record<string, unknown>).ranges = [[{ subnet }]];
      }),
  );
}

function baseConfig(bed: FuzzBed, ipMasq: boolean): Record<string, unknown> {
  return {
    cniVersion: "1.1.0",
    name: "fuzz",
    type: "tartan",
    mode: "bridge",
    bridge: "ttfuzz0",
    ipMasq,
    ipam: {
      type: "tartan-ipam",
      ranges: [[{ subnet: "10.66.0.0/24" }]],
      routes: [{ dst: "0.0.0.0/0" }],
      dataDir: join(bed.dir, "ipam"),
    },
  };
}

/**
 * Where a directory would default to the machine's (/var/lib/tartan, /var/lib/cni/networks for
 * host-local), point it into the bed instead: the fuzz test must write nowhere else.
 */
function keepInBed(bed: FuzzBed, c: Record<string, unknown>): void {
  if (c.dataDir === undefined || c.dataDir === null) c.dataDir = join(bed.dir, "state");
  const ipam = c.ipam;
  if (typeof ipam !== "object" || ipam === null || Array.isArray(ipam)) return;
  const i = ipam as Record<string, unknown>;
  if (i.type === "host-local") i.dataDir = join(bed.dir, "hostlocal");
  else if (i.dataDir === undefined || i.dataDir === null) i.dataDir = join(bed.dir, "ipam");
}

/** One generated invocation. CNI_NETNS and CNI_PATH only from safe sets. */
export function fuzzCase(bed: FuzzBed): fc.Arbitrary<FuzzCase> {
  const netns = fc.oneof(
    { weight: 6, arbitrary: fc.constant(bed.pod.path) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        "/proc/self/ns/net",
        `/run/netns/${bed.host.name}`,
        "/nonexistent/ns",
        "relative",
      ),
    },
    { weight: 1, arbitrary: nasty.map((s) => (s.startsWith("/") ? `/nonexistent${s}` : s)) },
  );
  const cniPath = fc.constantFrom(
    `${bed.bin}:${REFERENCE}`,
    `${bed.bin}:${REFERENCE}`,
    bed.bin,
    "",
    "/nonexistent",
  );
  const ifname = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom("eth0", "net1") },
    { weight: 2, arbitrary: nasty },
  );
  const containerId = fc.oneof(
    { weight: 5, arbitrary: fc.constant("fuzzctr") },
    { weight: 1, arbitrary: nasty },
  );
  const cniArgs = fc.oneof(
    fc.constant(undefined),
    fc.constantFrom(
      "IP=10.66.0.9",
      "K8S_POD_NAMESPACE=a;K8S_POD_NAME=b",
      "IgnoreUnknown=1;X=y",
      "novalue",
      "IP=zz",
    ),
    fc.string({ maxLength: 30 }),
  );
  const command = fc.oneof({ weight: 8, arbitrary: fc.constant("ADD") }, { weight: 1, arbitrary: nasty });
  const config = fc.tuple(fc.boolean(), fc.array(mutation(bed), { maxLength: 4 })).map(([masq, muts]) => {
    const c = baseConfig(bed, masq);
    for (const m of muts) m(c);
    keepInBed(bed, c);
    return JSON.stringify(c);
  });
  const stdin = fc.oneof(
    { weight: 12, arbitrary: config },
    { weight: 1, arbitrary: fc.string({ maxLength: 50 }) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constant(`${"[".repeat(20000)}`) },
  );
  // Half the cases keep a valid environment, so that the config's mutations reach the verbs
  // instead of stopping at an environment error (4).
  const validEnv = fc.record({
    command: fc.constant("ADD"),
    containerId: fc.constant("fuzzctr"),
    netns: fc.constant(bed.pod.path),
    ifname: fc.constantFrom("eth0", "net1"),
    cniArgs: fc.constantFrom(undefined, "IgnoreUnknown=1;K8S_POD_NAMESPACE=a;K8S_POD_NAME=b", "IP=10.66.0.9"),
    cniPath: fc.constant(`${bed.bin}:${REFERENCE}`),
  });
  const anyEnv = fc.record({ command, containerId, netns, ifname, cniArgs, cniPath });
  return fc.tuple(fc.oneof(validEnv, anyEnv), stdin).map(([r, text]) => ({
    env: {
      CNI_COMMAND: r.command,
      CNI_CONTAINERID: r.containerId,
      CNI_NETNS: r.netns,
      CNI_IFNAME: r.ifname,
      CNI_ARGS: r.cniArgs,
      CNI_PATH: r.cniPath,
    },
    stdin: text,
  }));
}

export interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the plugin in the host namespace with exactly this CNI environment. */
export async function invokeRaw(
  bed: FuzzBed,
  env: FuzzCase["env"],
  stdin: string,
  binary = "tartan",
): Promise<Answer> {
  const full: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(full)) if (k.startsWith("CNI_") || k.startsWith("TARTAN_")) delete full[k];
  // execve cannot carry a NUL in an environment value: such a value never reaches a plugin.
  for (const [k, v] of Object.entries(env)) if (v !== undefined) full[k] = v.replaceAll("\u0000", "");
  return await run(["ip", "netns", "exec", bed.host.name, join(bed.bin, binary)], {
    env: full,
    stdin,
    allowFailure: true,
    timeoutMs: 30_000,
  });
}

/** Problems with one answer: what the spec and issue 12 require of every exit. */
export function answerProblems(what: string, a: Answer): string[] {
  const p: string[] = [];
  if (/\n\s+at |^\s+at |\.ts:\d+/m.test(a.stdout))
    p.push(`${what}: a stack trace on stdout: ${a.stdout.slice(0, 300)}`);
  if (a.code === 0) return p;
  if (a.code !== 1) p.push(`${what}: exit status ${a.code} (stderr ${a.stderr.slice(0, 200)})`);
  let j: unknown;
  try {
    j = JSON.parse(a.stdout);
  } catch {
    p.push(`${what}: failed without error JSON on stdout: ${JSON.stringify(a.stdout.slice(0, 200))}`);
    return p;
  }
  const e = j as { code?: unknown; msg?: unknown };
  if (!Number.isInteger(e.code)) p.push(`${what}: error code ${JSON.stringify(e.code)} is not an integer`);
  if (typeof e.msg !== "string" || e.msg === "") p.push(`${what}: error msg is not a non-empty string`);
  else if (e.msg.includes("\n"))
    p.push(`${what}: error msg spans lines: ${JSON.stringify(e.msg.slice(0, 200))}`);
  return p;
}

/** What is left behind: host links other than lo and bridges, masq chains, store rows. */
export async function leftovers(bed: FuzzBed): Promise<string[]> {
  const out: string[] = [];
  const links = JSON.parse((await bed.host.exec(["ip", "-j", "-d", "link", "show"])).stdout || "[]") as {
    ifname: string;
    linkinfo?: { info_kind?: string };
  }[];
  for (const l of links) {
    if (l.ifname === "lo" || l.linkinfo?.info_kind === "bridge") continue;
    out.push(`host link ${l.ifname} (${l.linkinfo?.info_kind ?? "?"})`);
  }
  const podLinks = JSON.parse((await bed.pod.exec(["ip", "-j", "link", "show"])).stdout || "[]") as {
    ifname: string;
  }[];
  for (const l of podLinks) if (l.ifname !== "lo") out.push(`pod link ${l.ifname}`);
  const nft = await bed.host.exec(["nft", "list", "table", "inet", "tartan"], { allowFailure: true });
  for (const m of nft.stdout.matchAll(/chain (masq-\S+)/g)) out.push(`nft chain ${m[1]}`);
  for (const net of readdirSyncSafe(join(bed.dir, "hostlocal"))) {
    for (const f of readdirSyncSafe(join(bed.dir, "hostlocal", net))) {
      if (f !== "lock" && !f.startsWith("last_reserved_ip")) out.push(`host-local reservation ${net}/${f}`);
    }
  }
  for (const d of STORE_DIRS) {
    const dir = join(bed.dir, d);
    if (!existsSync(dir)) continue;
    let store: ReturnType<typeof openSqliteIpamStore>;
    try {
      store = openSqliteIpamStore(dir, { readOnly: true });
    } catch {
      continue;
    }
    try {
      store.transaction((tx) => {
        for (const n of tx.networks()) {
          for (const a of tx.allocations(n))
            out.push(`reservation ${n.slice(0, 30)} ${a.ip} ${a.containerId}/${a.ifname}`);
          for (const a of tx.attachments(n))
            out.push(`attachment ${n.slice(0, 30)} ${a.containerId}/${a.ifname}`);
        }
      });
    } finally {
      store.close();
    }
  }
  return out;
}

/** The property: ADD with the generated inputs, DEL and GC with the same; check the answers and leftovers. */
export function pluginInputProperty(
  bed: FuzzBed,
  onCase?: (add: Answer, del: Answer) => void,
): fc.IAsyncPropertyWithHooks<[FuzzCase]> {
  return fc.asyncProperty(fuzzCase(bed), async (c) => {
    const problems: string[] = [];
    const add = await invokeRaw(bed, c.env, c.stdin);
    problems.push(...answerProblems("ADD", add));
    const del = await invokeRaw(bed, { ...c.env, CNI_COMMAND: "DEL" }, c.stdin);
    onCase?.(add, del);
    const gcStdin = withValidAttachments(c.stdin);
    if (gcStdin !== undefined) {
      // GC with no valid attachment: whatever the DEL missed must go now.
      const gc = await invokeRaw(bed, { ...c.env, CNI_COMMAND: "GC" }, gcStdin);
      problems.push(...answerProblems("GC", gc));
    }
    problems.push(...answerProblems("DEL", del));
    if (add.code === 0 && del.code !== 0) problems.push(`DEL after a successful ADD failed: ${del.stdout}`);
    const left = await leftovers(bed);
    if (left.length) {
      problems.push(`left behind: ${left.join(", ")}`);
      await scrub(bed);
    }
    if (problems.length) {
      const shown = { env: c.env, stdin: c.stdin.length > 400 ? `${c.stdin.slice(0, 400)}…` : c.stdin };
      throw new Error(
        `${problems.join("\n")}\ncase: ${JSON.stringify(shown)}\nADD: ${add.stdout.slice(0, 300)}`,
      );
    }
  });
}

/** The config with an empty `cni.dev/valid-attachments` (a GC request), when it is a JSON object. */
function withValidAttachments(stdin: string): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(stdin);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  return JSON.stringify({ ...v, "cni.dev/valid-attachments": [] });
}

/** After a failed case, so that the next one starts clean: only the bed's own namespaces. */
async function scrub(bed: FuzzBed): Promise<void> {
  const links = JSON.parse((await bed.host.exec(["ip", "-j", "link", "show"])).stdout || "[]") as {
    ifname: string;
  }[];
  for (const l of links)
    if (l.ifname !== "lo") await bed.host.exec(["ip", "link", "del", l.ifname], { allowFailure: true });
  await bed.host.exec(["nft", "delete", "table", "inet", "tartan"], { allowFailure: true });
  await run(["rm", "-rf", ...[...STORE_DIRS, "hostlocal"].map((d) => join(bed.dir, d))], {
    allowFailure: true,
  });
}
