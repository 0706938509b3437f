import { writeSync } from "node:fs";
import type { Libc } from "./libc.ts";
import { RTNL } from "./rtnl.ts";

const cstr = (s: string): Uint8Array => new TextEncoder().encode(`${s}\0`);

/**
 * Runs `fn` (synchronous: it makes a socket, which stays bound to the namespace it was made in)
 * with the calling thread in the network namespace at path `netns`, and returns the thread to its
 * own namespace before returning, so no other code (and no await) ever runs in the target. Throws
 * when the namespace cannot be entered, or rethrows what `fn` threw; nothing was changed then.
 */
export function inNetns<T>(c: Libc, netns: string, fn: () => T): T {
  const self = c.open(cstr("/proc/thread-self/ns/net"), RTNL.O_RDONLY | RTNL.O_CLOEXEC);
  if (self < 0) throw new Error(`open /proc/thread-self/ns/net: ${c.strerror(c.errno())}`);
  const target = c.open(cstr(netns), RTNL.O_RDONLY | RTNL.O_CLOEXEC);
  if (target < 0) {
    const e = c.errno();
    c.close(self);
    throw new Error(`open ${netns}: ${c.strerror(e)}`);
  }
  let out: { value: T } | undefined;
  let fail: unknown;
  if (c.setns(target, RTNL.CLONE_NEWNET) !== 0) {
    fail = new Error(`setns ${netns}: ${c.strerror(c.errno())}`);
  } else {
    try {
      out = { value: fn() };
    } catch (e) {
      fail = e;
    }
    if (c.setns(self, RTNL.CLONE_NEWNET) !== 0) {
      // The thread is stuck in the pod's namespace: everything after (host-side ops, spawned
      // tools) would silently act on the wrong namespace. Stopping is the only safe answer.
      writeSync(2, `tartan: cannot return to the original network namespace: ${c.strerror(c.errno())}\n`);
      process.exit(70);
    }
  }
  c.close(target);
  c.close(self);
  if (!out) throw fail;
  return out.value;
}
