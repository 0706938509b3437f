import { resolve } from "node:path";

/**
 * The tartan executable the lab runs as agent, CNI plugin, responder and probe: $TARTAN_BIN if
 * set, else this very executable when it is the compiled single file, else (running from source
 * with `bun src/main.ts`) the build output dist/tartan.
 */
export function tartanExecutable(): string {
  const fromEnv = process.env.TARTAN_BIN;
  if (fromEnv) return resolve(fromEnv);
  if (!/\/bun[^/]*$/.test(process.execPath)) return process.execPath;
  return resolve(import.meta.dir, "../../dist/tartan");
}
