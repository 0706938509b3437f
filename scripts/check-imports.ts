// Enforces the layering of docs/architecture.md on src/ (tests under test/ are exempt). Rules:
//
// 1. Layer order: each layer of src/ may import only itself and the layers listed before it in
//    LAYERS (model → errors → exec → api → datastore → dataplane → ipam → calc → render → cni →
//    agent → cli → lab → ui → the composition roots: cni-wiring.ts, cni-main.ts, main.ts).
// 2. No import cycles between files.
// 3. Platform modules only where their adapter lives:
//      node:child_process, Bun.spawn / Bun.spawnSync (text match)   src/exec/
//      bun:ffi                                                       src/dataplane/linux/netlink*,
//                                                                    src/exec/read-fd-sync.ts
//      bun:sqlite                                                    src/datastore/local/
//      node:http2 (gRPC to etcd, decision 0023)                      src/datastore/etcd/
//    and the etcd3 package (a dev dependency: tests' and benches' independent client) nowhere.
// 4. Concrete adapters are wired only by the composition roots. A file of an adapter group may be
//    imported by files of the same group, the roots (src/main.ts for dist/tartan, src/cni-main.ts
//    for the plugin dist/cni/tartan, src/cni-wiring.ts, the CNI wiring both share) and
//    src/datastore/open-datastore.ts:
//      src/dataplane/linux/ (Linux drivers: iproute2, netlink, nft, host facts)
//      src/dataplane/fake/  (in-memory kernel)
//      src/datastore/etcd/, src/datastore/local/ (SQLite), src/datastore/memory-*.ts
//      src/datastore/kubernetes/ (the Kubernetes API adapter and its fetch client, decision 0015)
//    Everything else takes the ports (Dataplane, NftTable, HostFacts, IpamStore, Datastore).
//    One exception (ADAPTER_EXCEPTIONS, decision 0016): the lab's stand-in Kubernetes API server
//    (src/lab/kube-apiserver/) stores objects in etcd with kube-apiserver's own key layout, so it
//    imports the raw etcd helper src/datastore/etcd/raw-etcd.ts (and only that file).
// 5. src/cni/ is the plugin, not a library: only src/cni/ itself and the roots import it.
//    Constants the plugin shares with the agent and the CLI live in src/model/.
// 6. The plugin's VERSION path, the files src/cni-main.ts reaches through static imports, imports
//    no built-in module (node:*, bun:*): each costs 2–4 ms of every plugin start (decision 0012);
//    the other verbs reach theirs through dynamic imports, split into chunks of their own. One
//    exception (VERSION_PATH_BUILTINS): bun:ffi in src/exec/read-fd-sync.ts, VERSION's stdin
//    reader, which costs less than reading stdin without it.
//
// ALLOWED lists the few known violations left for a change in flight, each with its reason; they
// print as warnings. Usage: bun scripts/check-imports.ts [--root DIR] (DIR holds src/; default:
// this repository). Prints every violation; exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const LAYERS = [
  "model",
  "errors",
  "exec",
  "api",
  "datastore",
  "dataplane",
  "ipam",
  "calc",
  "render",
  "cni",
  "agent",
  "cli",
  "lab",
  "ui",
  "cni-wiring.ts",
  "cni-main.ts",
  "main.ts",
];

/** Platform modules (import specifiers) and the source paths (relative to the root) allowed to use them. */
const PLATFORM: ReadonlyArray<{ module: string; allowed: (path: string) => boolean; where: string }> = [
  { module: "node:child_process", allowed: (p) => p.startsWith("src/exec/"), where: "src/exec/" },
  { module: "child_process", allowed: (p) => p.startsWith("src/exec/"), where: "src/exec/" },
  {
    module: "bun:ffi",
    allowed: (p) => p.startsWith("src/dataplane/linux/netlink") || p === "src/exec/read-fd-sync.ts",
    where: "the netlink driver (src/dataplane/linux/netlink*) and src/exec/read-fd-sync.ts",
  },
  {
    module: "bun:sqlite",
    allowed: (p) => p.startsWith("src/datastore/local/"),
    where: "src/datastore/local/",
  },
  { module: "node:http2", allowed: (p) => p.startsWith("src/datastore/etcd/"), where: "src/datastore/etcd/" },
  { module: "http2", allowed: (p) => p.startsWith("src/datastore/etcd/"), where: "src/datastore/etcd/" },
  { module: "etcd3", allowed: () => false, where: "tests and benches (a dev dependency)" },
];
const SPAWN_RE = /\bBun\.spawn(?:Sync)?\b/;

/** The adapter group a path belongs to, or undefined for ports and everything else. */
function adapterGroup(path: string): string | undefined {
  for (const dir of [
    "src/dataplane/linux/",
    "src/dataplane/fake/",
    "src/datastore/etcd/",
    "src/datastore/local/",
    "src/datastore/kubernetes/",
  ]) {
    if (path.startsWith(dir)) return dir;
  }
  if (/^src\/datastore\/memory-[^/]+\.ts$/.test(path)) return path;
  return undefined;
}
const ROOTS = new Set(["src/main.ts", "src/cni-main.ts", "src/cni-wiring.ts"]);
/** Adapter files one folder outside the roots may import: [importing folder, adapter file]. */
const ADAPTER_EXCEPTIONS: ReadonlyArray<[string, string]> = [
  ["src/lab/kube-apiserver/", "src/datastore/etcd/raw-etcd.ts"],
];
const adapterException = (from: string, to: string) =>
  ADAPTER_EXCEPTIONS.some(([dir, file]) => from.startsWith(dir) && to === file);
const COMPOSITION_ROOT = new Set([...ROOTS, "src/datastore/open-datastore.ts"]);

/** Known violations tolerated for now: "file -> import" (paths relative to the root) and why. */
const ALLOWED: ReadonlyMap<string, string> = new Map([]);

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const rootOption = option("--root");
const root = rootOption ? resolve(rootOption) : resolve(import.meta.dir, "..");
const src = join(root, "src");

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const rel = (p: string) => relative(root, p);

function layerOf(file: string): number {
  const first = relative(src, file).split("/")[0] ?? "";
  return LAYERS.indexOf(first);
}

const importRe =
  /^\s*(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

/**
 * Every import specifier of a file (relative and bare), the static ones apart (no `import()`),
 * and its text without comment lines.
 */
function read(file: string): { specs: string[]; staticSpecs: string[]; code: string } {
  const text = readFileSync(file, "utf8");
  const specs: string[] = [];
  const staticSpecs: string[] = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec) specs.push(spec);
    // Type-only imports are erased by the bundler: they load nothing.
    if ((m[1] ?? m[2]) && !/^\s*(?:import|export)\s+type\s/.test(m[0])) staticSpecs.push(spec as string);
  }
  const code = text
    .split("\n")
    .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
    .join("\n");
  return { specs, staticSpecs, code };
}

function resolveLocal(file: string, spec: string): string | undefined {
  // Data files (package.json, deploy/tartan.yaml) are not modules of a layer.
  if (!spec.startsWith(".") || spec.endsWith(".json") || spec.endsWith(".yaml")) return undefined;
  const target = resolve(dirname(file), spec);
  return target.endsWith(".ts") ? target : `${target}.ts`;
}

const files = walk(src);
const graph = new Map<string, string[]>();
/** Static imports only: local files, and bare specifiers (built-ins, packages) per file. */
const staticGraph = new Map<string, { local: string[]; bare: string[] }>();
const problems: string[] = [];
const warnings: string[] = [];

function report(from: string, to: string, problem: string): void {
  const why = ALLOWED.get(`${from} -> ${to}`);
  if (why) warnings.push(`${problem} [tolerated: ${why}]`);
  else problems.push(problem);
}

for (const f of files) {
  const path = rel(f);
  const from = layerOf(f);
  if (from < 0) problems.push(`${path}: not inside a known layer (${LAYERS.join(", ")})`);
  const { specs, staticSpecs, code } = read(f);
  staticGraph.set(f, {
    local: staticSpecs.flatMap((spec) => resolveLocal(f, spec) ?? []),
    bare: staticSpecs.filter((spec) => !spec.startsWith(".")),
  });
  const deps: string[] = [];
  for (const spec of specs) {
    const rule = PLATFORM.find((r) => r.module === spec);
    if (rule && !rule.allowed(path)) {
      problems.push(`${path} imports ${spec}, which only ${rule.where} may use`);
    }
    const d = resolveLocal(f, spec);
    if (d) deps.push(d);
  }
  if (SPAWN_RE.test(code) && !path.startsWith("src/exec/")) {
    problems.push(
      `${path} calls Bun.spawn: only src/exec/ spawns processes (use exec/run.ts or add a function there)`,
    );
  }
  graph.set(f, deps);
  const ownGroup = adapterGroup(path);
  for (const d of deps) {
    const target = rel(d);
    const to = layerOf(d);
    if (to < 0) {
      problems.push(`${path} imports ${target}, which is outside src/ layers`);
      continue;
    }
    if (to > from) {
      report(
        path,
        target,
        `${path} (layer ${LAYERS[from]}) imports ${target} (layer ${LAYERS[to]}): ` +
          "a layer may import only itself and the layers above it",
      );
    }
    const group = adapterGroup(target);
    if (group && group !== ownGroup && !COMPOSITION_ROOT.has(path) && !adapterException(path, target)) {
      report(
        path,
        target,
        `${path} imports the concrete adapter ${target}: only the composition roots (${[...ROOTS].join(", ")}) ` +
          "and src/datastore/open-datastore.ts wire adapters; take the port instead",
      );
    }
    if (target.startsWith("src/cni/") && !path.startsWith("src/cni/") && !ROOTS.has(path)) {
      report(
        path,
        target,
        `${path} imports ${target}: src/cni/ is the plugin, only the composition roots wire it; move what is shared into src/model/`,
      );
    }
  }
}

// Rule 6: the VERSION path of the plugin loads no built-in module, but for these ("file -> module"):
// bun:ffi's read(2) of fd 0 costs ~1–2.5 ms less CPU than Bun's stream reader (docs/benchmarks.md).
const VERSION_PATH_BUILTINS: ReadonlySet<string> = new Set(["src/exec/read-fd-sync.ts -> bun:ffi"]);
{
  const entry = join(src, "cni-main.ts");
  const seen = new Set<string>();
  const todo = staticGraph.has(entry) ? [entry] : [];
  while (todo.length > 0) {
    const f = todo.pop() as string;
    if (seen.has(f)) continue;
    seen.add(f);
    const node = staticGraph.get(f);
    for (const spec of node?.bare ?? []) {
      if (VERSION_PATH_BUILTINS.has(`${rel(f)} -> ${spec}`)) continue;
      problems.push(
        `${rel(f)} imports ${spec} statically and src/cni-main.ts reaches it without a dynamic import: ` +
          "every plugin start (VERSION too) would load it; import it from a module the verbs load dynamically",
      );
    }
    todo.push(...(node?.local ?? []));
  }
}

// Cycle detection: iterative DFS with colours, reporting each cycle once.
const colour = new Map<string, 0 | 1 | 2>();
const stack: string[] = [];
const seenCycles = new Set<string>();
function visit(node: string): void {
  colour.set(node, 1);
  stack.push(node);
  for (const next of graph.get(node) ?? []) {
    const c = colour.get(next) ?? 0;
    if (c === 1) {
      const cycle = stack.slice(stack.indexOf(next)).map(rel);
      const key = [...cycle].sort().join("|");
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        problems.push(`import cycle: ${[...cycle, rel(next)].join(" -> ")}`);
      }
    } else if (c === 0 && graph.has(next)) {
      visit(next);
    }
  }
  stack.pop();
  colour.set(node, 2);
}
for (const f of files) if ((colour.get(f) ?? 0) === 0) visit(f);

for (const w of warnings) console.error(`check-imports: warning: ${w}`);
if (problems.length > 0) {
  for (const p of problems) console.error(`check-imports: ${p}`);
  console.error(
    `check-imports: ${problems.length} problem(s). Fix the import or move the code to the right layer.`,
  );
  process.exit(1);
}
console.log(
  `check-imports: ${files.length} files, layering, acyclicity, platform modules and adapter wiring hold`,
);
