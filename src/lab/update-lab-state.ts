import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import type { LabPaths } from "./lab-paths.ts";
import type { LabState } from "./lab-state.ts";
import { readLabState } from "./read-lab-state.ts";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function lock(paths: LabPaths): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const fd = openSync(paths.lockFile, "wx", 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    // A holder that died (killed mid-command) must not block the lab forever.
    let holder = 0;
    try {
      holder = Number(readFileSync(paths.lockFile, "utf8"));
    } catch {}
    if (holder && !alive(holder)) {
      rmSync(paths.lockFile, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new TartanError(
        "lab-locked",
        `lab "${paths.name}" is locked by process ${holder}`,
        "wait for the other lab command to finish",
      );
    }
    await Bun.sleep(20);
  }
}

/**
 * Read-modify-write of lab.json under a lock file: several `lab pod add` may run at once. The
 * write is atomic (temp file + rename), so a reader never sees half a state.
 */
export async function updateLabState(
  paths: LabPaths,
  change: (state: LabState | undefined) => LabState,
): Promise<LabState> {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  await lock(paths);
  try {
    const next = change(readLabState(paths));
    writeFileSync(`${paths.stateFile}.tmp`, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${paths.stateFile}.tmp`, paths.stateFile);
    return next;
  } finally {
    rmSync(paths.lockFile, { force: true });
  }
}
