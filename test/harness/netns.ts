// Test network namespaces: every one is named tt-t-<random>, registered for cleanup, and removed
// by cleanupAll() (call it in afterAll/afterEach) even when the test failed halfway.
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { run } from "../../src/exec/run.ts";

const created = new Set<string>();

export const isRoot = process.getuid?.() === 0;

export interface TestNetns {
  name: string;
  path: string;
  /** Runs argv inside the namespace; throws on a non-zero exit unless allowFailure. */
  exec(
    argv: string[],
    opts?: { allowFailure?: boolean; stdin?: string; env?: Record<string, string> },
  ): Promise<{
    code: number;
    stdout: string;
    stderr: string;
  }>;
}

export async function createNetns(label = ""): Promise<TestNetns> {
  const name = `tt-t-${label ? `${label}-` : ""}${randomBytes(4).toString("hex")}`;
  await run(["ip", "netns", "add", name]);
  created.add(name);
  await run(["ip", "-n", name, "link", "set", "lo", "up"]);
  return handle(name);
}

function handle(name: string): TestNetns {
  return {
    name,
    path: `/run/netns/${name}`,
    exec: (argv, opts = {}) =>
      run(["ip", "netns", "exec", name, ...argv], {
        allowFailure: opts.allowFailure,
        stdin: opts.stdin,
        env: opts.env ? { ...process.env, ...opts.env } : undefined,
      }),
  };
}

export async function deleteNetns(name: string): Promise<void> {
  created.delete(name);
  if (existsSync(`/run/netns/${name}`)) await run(["ip", "netns", "del", name], { allowFailure: true });
}

/** Runs `fn` in a fresh namespace and removes it afterwards, also when `fn` fails. */
export async function withNetns<T>(label: string, fn: (ns: TestNetns) => Promise<T>): Promise<T> {
  const ns = await createNetns(label);
  try {
    return await fn(ns);
  } finally {
    await deleteNetns(ns.name);
  }
}

export interface VethEnd {
  ns: TestNetns;
  /** The address (CIDR) of this end, which is then set up; without one the end stays bare and down. */
  cidr?: string;
}

/** Joins two test namespaces by a veth named `name` at both ends (an underlay, an uplink). */
export async function vethBetween(name: string, a: VethEnd, b: VethEnd, mtu?: number): Promise<void> {
  const mtuArgs = mtu === undefined ? [] : ["mtu", String(mtu)];
  await run([
    "ip",
    "-n",
    a.ns.name,
    "link",
    "add",
    name,
    ...mtuArgs,
    "type",
    "veth",
    "peer",
    "name",
    name,
    "netns",
    b.ns.name,
  ]);
  for (const end of [a, b]) {
    if (end.cidr === undefined) continue;
    await end.ns.exec(["ip", "addr", "add", end.cidr, "dev", name]);
    await end.ns.exec(["ip", "link", "set", name, "up"]);
  }
}

/** Removes every namespace this process created and has not removed yet. */
export async function cleanupAllNetns(): Promise<void> {
  for (const name of [...created]) await deleteNetns(name);
}

process.on("exit", () => {
  // Last resort for a test run that dies without reaching afterAll: synchronous removal.
  for (const name of created) Bun.spawnSync(["ip", "netns", "del", name]);
});
