import { readFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import type { LabPaths } from "./lab-paths.ts";
import type { LabState } from "./lab-state.ts";

/** The lab's state file, or undefined when the lab does not exist. */
export function readLabState(paths: LabPaths): LabState | undefined {
  let text: string;
  try {
    text = readFileSync(paths.stateFile, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as LabState;
  } catch {
    throw new TartanError(
      "lab-state",
      `${paths.stateFile} is not valid JSON`,
      `remove the lab with \`tartan lab down --lab ${paths.name}\``,
    );
  }
}
