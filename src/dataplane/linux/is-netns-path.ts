import { readlinkSync, statSync } from "node:fs";

/**
 * True when the path names a namespace file (a /run/netns bind mount or /proc/PID/ns/net) of a
 * network namespace. Checked on the file system, without spawning: namespace files live on
 * nsfs, whose device number we learn from our own /proc/self/ns/net.
 */
export function isNetnsPath(path: string): boolean {
  try {
    const nsfsDev = statSync("/proc/self/ns/net").dev;
    if (statSync(path).dev !== nsfsDev) return false;
    // /proc/PID/ns/* links say which kind they are ("net:[4026531840]"); bind mounts and our
    // own symlinks to them do not, and are network namespaces by convention (/run/netns).
    let target = "";
    try {
      target = readlinkSync(path);
    } catch {
      return true;
    }
    return !/^[a-z_]+:\[\d+\]$/.test(target) || target.startsWith("net:");
  } catch {
    return false;
  }
}
