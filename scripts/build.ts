// Builds the two executables with bun build --compile --minify --bytecode: dist/tartan (CLI, agent,
// lab; src/main.ts) and the lean CNI plugin dist/cni/tartan with dist/cni/tartan-ipam beside it
// (src/cni-main.ts; docs/decisions/0012-separate-plugin-executable.md).
// Usage: bun scripts/build.ts [entry outfile]   (default: both executables)
import { symlinkSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";

async function compile(entry: string, outfile: string, plugin = false): Promise<void> {
  const result = await Bun.build({
    entrypoints: [entry],
    // The plugin reads no .env or bunfig.toml from the runtime's working directory: its behaviour
    // must come from its config and CNI_* alone (and it saves the lookups at every start).
    compile: plugin ? { outfile, autoloadDotenv: false, autoloadBunfig: false } : { outfile },
    // The plugin as ES modules split at its dynamic imports: each verb's chunks, and the built-ins
    // they import, are loaded only when that verb runs (VERSION loads none of them). A single
    // bundle hoists every built-in import to its top, evaluated at every start.
    ...(plugin ? { format: "esm" as const, splitting: true } : {}),
    minify: true,
    bytecode: true,
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
}

/** `name` beside `target` as a relative symlink, replacing what was there (a rebuild). */
function linkBeside(target: string, name: string): void {
  const path = join(dirname(target), name);
  try {
    unlinkSync(path);
  } catch {}
  symlinkSync(target.slice(target.lastIndexOf("/") + 1), path);
}

const [entry, outfile] = process.argv.slice(2);
if (entry && outfile) {
  await compile(entry, outfile, entry.endsWith("cni-main.ts"));
} else {
  // Both at once: the second executable should not double the build (CI builds on 2 cores).
  await Promise.all([
    compile("src/main.ts", "dist/tartan"),
    compile("src/cni-main.ts", "dist/cni/tartan", true),
  ]);
  // dist/tartan still answers CNI_COMMAND (installs from before the split), as tartan-ipam too.
  linkBeside("dist/tartan", "tartan-ipam");
  linkBeside("dist/cni/tartan", "tartan-ipam");
}
