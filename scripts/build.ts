// Builds the two executables with bun build --compile --minify --bytecode: dist/tartan (CLI, agent,
// lab; src/main.ts) and the lean CNI plugin dist/cni/tartan with dist/cni/tartan-ipam beside it
// (src/cni-main.ts; docs/decisions/0012-separate-plugin-executable.md), plus one build plugin that
// makes the etcd client work inside dist/tartan (docs/decisions/0007-etcd-client.md).
// Usage: bun scripts/build.ts [entry outfile]   (default: both executables)
import { symlinkSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { BunPlugin } from "bun";

const require = createRequire(import.meta.url);

/**
 * etcd3 parses its .proto files at import time from `${__dirname}/../proto`. In a compiled
 * executable __dirname is the build machine's node_modules, which does not exist on the hosts
 * tartan is copied to: the import fails with ENOENT. So the protos are parsed here, at build
 * time, and the call is replaced by proto-loader's fromJSON on the embedded descriptor (no file
 * access, no .proto parsing at run time). The build fails loudly if etcd3 ever changes that line.
 */
function etcd3EmbeddedProtos(): BunPlugin {
  return {
    name: "etcd3-embedded-protos",
    setup(build) {
      build.onLoad({ filter: /[\\/]etcd3[\\/]lib[\\/]connection-pool\.js$/ }, async (args) => {
        const src = await Bun.file(args.path).text();
        // biome-ignore lint/suspicious/noTemplateCurlyInString: etcd3's source text, matched verbatim
        const call = "(0, proto_loader_1.loadSync)(`${__dirname}/../proto/rpc.proto`,";
        if (!src.includes(call))
          throw new Error(`${args.path}: etcd3 no longer loads its protos as expected`);
        // protobufjs as proto-loader resolves it, so the descriptor matches the loader's version.
        const loaderDir = dirname(require.resolve("@grpc/proto-loader"));
        const protobuf = require(require.resolve("protobufjs", { paths: [loaderDir] }));
        const root = new protobuf.Root();
        // keepCase as etcd3's own options: field names stay snake_case as its code expects.
        root.loadSync(`${dirname(args.path)}/../proto/rpc.proto`, { keepCase: true });
        const json = JSON.stringify(root.toJSON());
        return { contents: src.replace(call, `(0, proto_loader_1.fromJSON)(${json},`), loader: "js" };
      });
    },
  };
}

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
    plugins: [etcd3EmbeddedProtos()],
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
