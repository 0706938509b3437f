import { accessSync, constants } from "node:fs";

/** The first executable `dir/type` along CNI_PATH, as libcni's FindInPath does. */
export function findPluginInPath(type: string, path: string[]): string | undefined {
  for (const dir of path) {
    const candidate = `${dir}/${type}`;
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return undefined;
}
