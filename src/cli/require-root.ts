import { TartanError } from "../errors/tartan-error.ts";

/**
 * Checked before a command touches anything root-only (namespaces, the lab's state, agent
 * sockets), so a non-root user reads this instead of EPERM, a stack trace or "no lab is up".
 */
export function requireRoot(what: string, uid = process.getuid?.()): void {
  if (uid === undefined || uid === 0) return;
  throw new TartanError(
    "needs-root",
    `${what} must run as root`,
    "run it with sudo: it enters network namespaces and reads root-only state",
  );
}
