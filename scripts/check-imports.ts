// Enforces the dependency direction of docs/architecture.md: each layer of src/ may import only
// itself and the layers listed before it, and no file may take part in an import cycle.
// Runs in CI as part of the test command; prints every violation, exits 1 when there is one.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const LAYERS = [
  "model",
  "errors",
  "exec",
  "datastore",
  "dataplane",
  "ipam",
  "calc",
  "render",
  "cni",
  "agent",
  "cli",
  "lab",
  "cni-wiring.ts",
  "cni-main.ts",
  "main.ts",
];
const root = resolve(import.meta.dir, "..");
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

function layerOf(file: string): number {
  const first = relative(src, file).split("/")[0] ?? "";
  return LAYERS.indexOf(first);
}

const importRe =
  /^\s*(?:import|export)\s[^'"]*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/gm;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(importRe)) {
    const spec = m[1] ?? m[2] ?? m[3];
    // Data files (package.json) are not modules of a layer.
    if (spec?.startsWith(".") && !spec.endsWith(".json")) {
      let target = resolve(dirname(file), spec);
      if (!target.endsWith(".ts")) target += ".ts";
      out.push(target);
    }
  }
  return out;
}

const files = walk(src);
const graph = new Map<string, string[]>();
const problems: string[] = [];
for (const f of files) {
  const from = layerOf(f);
  if (from < 0) problems.push(`${relative(root, f)}: not inside a known layer (${LAYERS.join(", ")})`);
  const deps = importsOf(f);
  graph.set(f, deps);
  for (const d of deps) {
    const to = layerOf(d);
    if (to < 0) {
      problems.push(`${relative(root, f)} imports ${relative(root, d)}, which is outside src/ layers`);
    } else if (to > from) {
      problems.push(
        `${relative(root, f)} (layer ${LAYERS[from]}) imports ${relative(root, d)} (layer ${LAYERS[to]}): ` +
          "a layer may import only itself and the layers above it",
      );
    }
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
      const cycle = stack.slice(stack.indexOf(next)).map((p) => relative(root, p));
      const key = [...cycle].sort().join("|");
      if (!seenCycles.has(key)) {
        seenCycles.add(key);
        problems.push(`import cycle: ${[...cycle, relative(root, next)].join(" -> ")}`);
      }
    } else if (c === 0 && graph.has(next)) {
      visit(next);
    }
  }
  stack.pop();
  colour.set(node, 2);
}
for (const f of files) if ((colour.get(f) ?? 0) === 0) visit(f);

if (problems.length > 0) {
  for (const p of problems) console.error(`check-imports: ${p}`);
  console.error(
    `check-imports: ${problems.length} problem(s). Fix the import or move the code to the right layer.`,
  );
  process.exit(1);
}
console.log(`check-imports: ${files.length} files, layering and acyclicity hold`);
