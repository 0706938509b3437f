import { createHash } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeSync,
} from "node:fs";
import { basename } from "node:path";
import { TartanError } from "../errors/tartan-error.ts";

/** The plugin executables a node needs in its CNI bin directory (decision 0012). */
export const PLUGIN_FILES = ["tartan", "tartan-ipam"] as const;

export interface InstalledFile {
  name: string;
  /** `installed`: written now; `unchanged`: already there with the same content. */
  action: "installed" | "unchanged";
  /** The regular file's sha256, or for a symlink its target ("-> tartan"). */
  sha256?: string;
  linkTarget?: string;
}

export interface InstallReport {
  from: string;
  to: string;
  files: InstalledFile[];
}

const sha256 = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

function fail(code: "install-failed" | "install-verify-failed", msg: string, to: string): TartanError {
  return new TartanError(
    code,
    msg,
    code === "install-failed"
      ? `check that ${to} is writable and has free space (in the DaemonSet: the hostPath /opt/cni/bin mounted read-write)`
      : `run the install again; if it persists, the disk under ${to} is corrupting writes`,
  );
}

/** fsync a directory, so a rename in it survives a power cut (the file's data was synced first). */
function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function readSource(path: string): { link?: string; data?: Uint8Array } {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) {
      const link = readlinkSync(path);
      // Only a link to a sibling is reproduced as a link (tartan-ipam -> tartan); anything else
      // is copied as the file it points to, so the host never depends on the image's layout.
      if (!link.includes("/")) return { link };
    }
    return { data: readFileSync(path) };
  } catch (e) {
    throw new TartanError(
      "install-source-missing",
      `cannot read ${path}: ${e instanceof Error ? e.message : e}`,
      "pass --from the directory holding the plugin executables (the build's dist/cni)",
    );
  }
}

function currentLink(path: string): string | undefined {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  } catch {
    return undefined;
  }
}

function currentHash(path: string): string | undefined {
  try {
    const st = lstatSync(path);
    return st.isFile() ? sha256(readFileSync(path)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes `data` to `dst` without a moment where `dst` is partial: a hidden temp file beside it,
 * fsync, rename over `dst` (a running plugin keeps its old inode: no "text file busy"), fsync
 * of the directory. The temp name has no CNI meaning and is removed on any failure.
 */
function writeAtomically(dst: string, data: Uint8Array, to: string): void {
  const tmp = `${to}/.${basename(dst)}.tartan-tmp-${process.pid}`;
  try {
    rmSync(tmp, { force: true });
    const fd = openSync(tmp, "w", 0o755);
    try {
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, dst);
    syncDir(to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fail("install-failed", `cannot write ${dst}: ${e instanceof Error ? e.message : e}`, to);
  }
}

function linkAtomically(dst: string, target: string, to: string): void {
  const tmp = `${to}/.${basename(dst)}.tartan-tmp-${process.pid}`;
  try {
    rmSync(tmp, { force: true });
    symlinkSync(target, tmp);
    renameSync(tmp, dst);
    syncDir(to);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw fail(
      "install-failed",
      `cannot link ${dst} -> ${target}: ${e instanceof Error ? e.message : e}`,
      to,
    );
  }
}

/**
 * `tartan install`: copies the plugin executables from `from` into the CNI bin directory `to`
 * atomically and verifies every installed file by reading it back and comparing its sha256 with
 * the source's (a truncated copy once passed an install that only checked that the file existed:
 * projectcalico/calico#8818). A file already there with the same content is left alone.
 */
export function installPlugin(
  from: string,
  to: string,
  files: readonly string[] = PLUGIN_FILES,
): InstallReport {
  try {
    mkdirSync(to, { recursive: true, mode: 0o755 });
  } catch (e) {
    throw fail("install-failed", `cannot create ${to}: ${e instanceof Error ? e.message : e}`, to);
  }
  // Every source is read before anything is written: a missing one leaves the host untouched.
  const sources = files.map((name) => ({ name, ...readSource(`${from}/${name}`) }));
  const out: InstalledFile[] = [];
  // Regular files first, so a link never points at a file that is not there yet.
  for (const s of [...sources].sort((a, b) => Number(!!a.link) - Number(!!b.link))) {
    const dst = `${to}/${s.name}`;
    if (s.link !== undefined) {
      if (currentLink(dst) === s.link) {
        out.push({ name: s.name, action: "unchanged", linkTarget: s.link });
        continue;
      }
      linkAtomically(dst, s.link, to);
      if (currentLink(dst) !== s.link) {
        throw fail("install-verify-failed", `${dst} does not point at ${s.link} after the install`, to);
      }
      out.push({ name: s.name, action: "installed", linkTarget: s.link });
      continue;
    }
    const want = sha256(s.data!);
    if (currentHash(dst) === want) {
      out.push({ name: s.name, action: "unchanged", sha256: want });
      continue;
    }
    writeAtomically(dst, s.data!, to);
    const got = currentHash(dst);
    if (got !== want) {
      throw fail(
        "install-verify-failed",
        `${dst} has sha256 ${got ?? "(unreadable)"} after the install, the source ${want}`,
        to,
      );
    }
    out.push({ name: s.name, action: "installed", sha256: want });
  }
  return { from, to, files: out.sort((a, b) => a.name.localeCompare(b.name)) };
}
