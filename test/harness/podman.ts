// A test-private podman environment on the CNI backend. Podman cannot run a container's host side
// anywhere but the root namespace, so this is the one harness that touches it; to stay harmless on
// a shared machine everything it creates is private or uniquely named and removed by cleanup():
// - CONTAINERS_CONF points at a temp containers.conf (podman 4.x reads ONLY that file when set),
//   so /etc/containers and /etc/cni are never read or written;
// - --root/--runroot/--tmpdir keep podman's storage and state DB in the temp dir;
// - the bridge is `tartan-t<hex>`, the subnet a test-only range checked against `ip route`;
// - cleanup removes containers, the bridge, routes inside the test subnet, libcni's cached results
//   for this network name, `table inet tartan` only if it did not exist before, and the temp dir.
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type RunResult, run } from "../../src/exec/run.ts";
import { overlaps, parseCidr } from "../../src/model/cidr.ts";
import type { Conflist, JsonObject } from "./cni-invoke.ts";

export const REFERENCE_PLUGIN_DIR = "/usr/lib/cni";
/** The CNI plugin executable, as an operator installs it (dist/tartan is the CLI and agent). */
export const TARTAN_BINARY = resolve(import.meta.dir, "../../dist/cni/tartan");
/** Applets the busybox rootfs provides. */
const APPLETS = [
  "sh",
  "ip",
  "ping",
  "nc",
  "sleep",
  "cat",
  "ifconfig",
  "ls",
  "echo",
  "hostname",
  "wget",
  "true",
];
/** podman flags this machine needs (no systemd, no image store, low default ulimits). */
const RUN_FLAGS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];
/** libcni's result cache; podman's CNI backend does not let us move it. */
const LIBCNI_CACHE = "/var/lib/cni/results";

export interface NetworkContext {
  /** Network name (unique per environment). */
  name: string;
  /** Bridge name, `tartan-t<hex>`. */
  bridge: string;
  subnet: string;
  /** Private directory for IPAM state (host-local dataDir / tartan-ipam dataDir). */
  ipamDir: string;
}

export interface PodmanEnvOptions {
  /** Builds the network's conflist; `name` is forced to ctx.name. */
  conflist: (ctx: NetworkContext) => Omit<Conflist, "name">;
  /** Test-only subnet used in the root namespace (default 10.213.57.0/24). */
  subnet?: string;
  /** Copy dist/tartan (+ tartan-ipam symlink) into the private plugin dir (default true). */
  withTartan?: boolean;
}

export interface PodmanEnv extends NetworkContext {
  dir: string;
  /** Runs `podman` with the private config; throws on failure unless allowFailure. */
  podman(args: string[], opts?: { allowFailure?: boolean; timeoutMs?: number }): Promise<RunResult>;
  /** Starts a detached busybox container on the network running `cmd` (default: sleep forever). */
  runContainer(name: string, cmd?: string[]): Promise<RunResult>;
  execIn(
    name: string,
    argv: string[],
    opts?: { allowFailure?: boolean; timeoutMs?: number },
  ): Promise<RunResult>;
  /** IPv4 address (no prefix) of the container's eth0, read inside the container. */
  containerIp(name: string): Promise<string>;
  /** Idempotent; safe to call after a half-finished setup. */
  cleanup(): Promise<void>;
}

export async function podmanAvailable(): Promise<boolean> {
  const r = await run(["podman", "--version"], { allowFailure: true }).catch(() => null);
  return r?.code === 0;
}

export async function createPodmanEnv(opts: PodmanEnvOptions): Promise<PodmanEnv> {
  const hex = randomBytes(3).toString("hex");
  const subnet = opts.subnet ?? "10.213.57.0/24";
  await assertSubnetUnused(subnet);
  const dir = join(tmpdir(), `tartan-podman-${hex}`);
  const ctx: NetworkContext = {
    name: `tartan-t${hex}`,
    bridge: `tartan-t${hex}`,
    subnet,
    ipamDir: join(dir, "ipam"),
  };
  const binDir = join(dir, "bin");
  const netDir = join(dir, "net");
  const rootfs = join(dir, "rootfs");
  for (const d of [binDir, netDir, ctx.ipamDir, join(rootfs, "bin"), join(dir, "tmp")]) {
    mkdirSync(d, { recursive: true });
  }
  const nftTableExisted = await tartanTableExists();
  const containers = new Set<string>();
  const env = { ...process.env, CONTAINERS_CONF: join(dir, "containers.conf") };

  const podman: PodmanEnv["podman"] = (args, o = {}) =>
    run(
      [
        "podman",
        ...["--root", join(dir, "root"), "--runroot", join(dir, "runroot"), "--tmpdir", join(dir, "tmp")],
        ...args,
      ],
      { env, allowFailure: o.allowFailure, timeoutMs: o.timeoutMs ?? 60_000 },
    );

  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    // `podman rm` runs the CNI DEL, which is what frees IPAM and host state; do it first.
    if (containers.size > 0) await podman(["rm", "-f", "-t", "0", ...containers], { allowFailure: true });
    await run(["ip", "link", "del", ctx.bridge], { allowFailure: true });
    await removeRoutesIn(subnet);
    if (!nftTableExisted && (await tartanTableExists())) {
      await run(["nft", "delete", "table", "inet", "tartan"], { allowFailure: true });
    }
    if (existsSync(LIBCNI_CACHE)) {
      for (const f of readdirSync(LIBCNI_CACHE)) {
        if (f.startsWith(`${ctx.name}-`)) rmSync(join(LIBCNI_CACHE, f), { force: true });
      }
    }
    // Never recurse into a directory something is still mounted under (podman's overlay/shm).
    if (!mountedUnder(dir)) rmSync(dir, { recursive: true, force: true });
  };

  try {
    writeContainersConf(dir, netDir, [binDir, REFERENCE_PLUGIN_DIR]);
    if (opts.withTartan ?? true) installTartan(binDir);
    buildRootfs(rootfs);
    const list = { ...opts.conflist(ctx), name: ctx.name };
    writeFileSync(join(netDir, `${ctx.name}.conflist`), JSON.stringify(list, null, 2));
  } catch (e) {
    await cleanup();
    throw e;
  }

  const execIn: PodmanEnv["execIn"] = (name, argv, o = {}) => podman(["exec", name, ...argv], o);
  return {
    ...ctx,
    dir,
    podman,
    execIn,
    async runContainer(name, cmd = ["sleep", "3600"]) {
      containers.add(name);
      return podman([
        "run",
        "-d",
        "--name",
        name,
        "--network",
        ctx.name,
        ...RUN_FLAGS,
        "--rootfs",
        rootfs,
        ...cmd,
      ]);
    },
    async containerIp(name) {
      const r = await execIn(name, ["ip", "-4", "-o", "addr", "show", "dev", "eth0"]);
      const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(r.stdout);
      if (!m) throw new Error(`no IPv4 address on eth0 of ${name}: ${r.stdout}`);
      return m[1]!;
    },
    cleanup,
  };
}

function writeContainersConf(dir: string, netDir: string, pluginDirs: string[]): void {
  const conf = [
    "[engine]",
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    // journald may not exist here; a file logger inside tmp keeps events private too.
    'events_logger = "file"',
    `events_logfile_path = "${join(dir, "events.log")}"`,
    "[network]",
    'network_backend = "cni"',
    `network_config_dir = "${netDir}"`,
    `cni_plugin_dirs = [${pluginDirs.map((d) => `"${d}"`).join(", ")}]`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "containers.conf"), conf);
}

/** Installs like an operator would: a copy of the binary plus the IPAM symlink. */
function installTartan(binDir: string): void {
  if (!existsSync(TARTAN_BINARY)) throw new Error(`${TARTAN_BINARY} is missing: run \`npm run build\``);
  copyFileSync(TARTAN_BINARY, join(binDir, "tartan"));
  Bun.spawnSync(["chmod", "0755", join(binDir, "tartan")]);
  symlinkSync("tartan", join(binDir, "tartan-ipam"));
}

export function buildRootfs(rootfs: string): void {
  mkdirSync(join(rootfs, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(rootfs, "bin", "busybox"));
  Bun.spawnSync(["chmod", "0755", join(rootfs, "bin", "busybox")]);
  for (const a of APPLETS) symlinkSync("busybox", join(rootfs, "bin", a));
}

/** Refuses to run if any root-namespace route overlaps the test range (it would not be test-only). */
async function assertSubnetUnused(subnet: string): Promise<void> {
  const want = parseCidr(subnet);
  const r = await run(["ip", "-j", "-4", "route", "show", "table", "all"]);
  for (const route of JSON.parse(r.stdout) as { dst: string }[]) {
    if (route.dst === "default" || !/^\d/.test(route.dst)) continue;
    const dst = route.dst.includes("/") ? route.dst : `${route.dst}/32`;
    if (overlaps(parseCidr(dst), want))
      throw new Error(`test subnet ${subnet} is in use: route ${route.dst}`);
  }
}

async function removeRoutesIn(subnet: string): Promise<void> {
  const want = parseCidr(subnet);
  const r = await run(["ip", "-j", "-4", "route", "show"], { allowFailure: true });
  if (r.code !== 0) return;
  for (const route of JSON.parse(r.stdout) as JsonObject[]) {
    const dst = String(route.dst);
    if (!/^\d/.test(dst)) continue;
    if (overlaps(parseCidr(dst.includes("/") ? dst : `${dst}/32`), want)) {
      await run(["ip", "route", "del", dst], { allowFailure: true });
    }
  }
}

async function tartanTableExists(): Promise<boolean> {
  const r = await run(["nft", "list", "table", "inet", "tartan"], { allowFailure: true });
  return r.code === 0;
}

function mountedUnder(dir: string): boolean {
  return readFileSync("/proc/mounts", "utf8")
    .split("\n")
    .some((l) => l.split(" ")[1]?.startsWith(`${dir}/`));
}
