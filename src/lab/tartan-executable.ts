import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * The tartan executable the lab runs as agent, responder and probe: $TARTAN_BIN if
 * set, else this very executable when it is the compiled single file, else (running from source
 * with `bun src/main.ts`) the build output dist/tartan.
 */
export function tartanExecutable(): string {
  const fromEnv = process.env.TARTAN_BIN;
  if (fromEnv) return resolve(fromEnv);
  if (!/\/bun[^/]*$/.test(process.execPath)) return process.execPath;
  return resolve(import.meta.dir, "../../dist/tartan");
}

/**
 * The CNI plugin executable the lab's pods are wired with: `cni/tartan` beside the tartan
 * executable (the build's dist/cni/tartan, with `tartan-ipam` next to it), else the executable
 * itself, which still answers CNI_COMMAND (docs/decisions/0012-separate-plugin-executable.md).
 */
export function cniPluginExecutable(tartan: string): string {
  const plugin = `${dirname(tartan)}/cni/tartan`;
  return existsSync(plugin) ? plugin : tartan;
}
