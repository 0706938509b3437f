import { TartanError } from "../../errors/tartan-error.ts";
import { type RunOptions, run } from "../../exec/run.ts";
import type { Dataplane, NetnsRef } from "../dataplane.ts";
import type { AddrInfo, FdbInfo, KernelOp, LinkInfo, NeighInfo, RouteInfo } from "../kernel-op.ts";
import { kernelOpError } from "../kernel-op-error.ts";
import { sysctlKey } from "../sysctl-key.ts";
import { readHostSysctl, writeHostSysctl } from "./host-sysctl.ts";
import { ipTarget } from "./ip-target.ts";
import { isNetnsPath } from "./is-netns-path.ts";
import { parseBatchFailure } from "./parse-batch-failure.ts";
import { parseBridgeFdb } from "./parse-bridge-fdb.ts";
import { parseIpAddrs } from "./parse-ip-addrs.ts";
import { parseIpLinks } from "./parse-ip-links.ts";
import { parseIpNeigh } from "./parse-ip-neigh.ts";
import { parseIpRoutes } from "./parse-ip-routes.ts";
import { toolBatches } from "./tool-batches.ts";

/** The op an argument error of ip refers to, since such errors come without a line number. */
function opNamedBy(ops: readonly KernelOp[], words: string): number | undefined {
  const arg = /argument "([^"]+)" is wrong/.exec(words)?.[1];
  if (arg === undefined) return undefined;
  const i = ops.findIndex((op) => Object.values(op).includes(arg));
  return i < 0 ? undefined : i;
}

/**
 * The Dataplane on a real kernel through iproute2. apply() is one `ip -batch -` spawn however
 * many ops there are (the CNI ADD hot path; FDB ops add a `bridge -batch -` spawn per run of
 * them), reads are one `ip -j` spawn each, and host sysctls are plain /proc/sys file I/O.
 */
export class LinuxDataplane implements Dataplane {
  constructor(
    private readonly ipBinary = "ip",
    private readonly bridgeBinary = "bridge",
  ) {}

  private async ip(netns: NetnsRef, args: string[], opts: RunOptions = {}) {
    return this.tool("ip", netns, args, opts);
  }

  /** Runs ip or bridge against the namespace (both take the same -n NAME option). */
  private async tool(tool: "ip" | "bridge", netns: NetnsRef, args: string[], opts: RunOptions = {}) {
    const target = ipTarget(netns);
    const runOpts: RunOptions = { ...opts };
    if (target.nsenter) runOpts.netns = target.nsenter;
    const binary = tool === "ip" ? this.ipBinary : this.bridgeBinary;
    return run([binary, ...target.ipArgs, ...args], runOpts);
  }

  async apply(netns: NetnsRef, ops: readonly KernelOp[]): Promise<void> {
    if (ops.length === 0) return;
    // One spawn per run of ip ops or bridge (FDB) ops, in order; all validated up front.
    for (const batch of toolBatches(ops)) {
      const res = await this.tool(batch.tool, netns, ["-batch", "-"], {
        stdin: `${batch.lines.join("\n")}\n`,
        allowFailure: true,
      });
      if (res.code === 0) continue;
      const failure = parseBatchFailure(res.stderr);
      const batchOps = [...new Set(batch.opIndex)];
      // Some commands (neigh del) exit without a line number; with one op there is no doubt.
      const index =
        failure.line !== undefined
          ? batch.opIndex[failure.line - 1]
          : batchOps.length === 1
            ? batchOps[0]
            : opNamedBy(ops, failure.words);
      throw kernelOpError(
        netns,
        index === undefined ? undefined : ops[index],
        index,
        ops.length,
        failure.words,
      );
    }
  }

  async links(netns: NetnsRef): Promise<LinkInfo[]> {
    return parseIpLinks((await this.ip(netns, ["-d", "-j", "link", "show"])).stdout);
  }

  async link(netns: NetnsRef, name: string): Promise<LinkInfo | undefined> {
    const res = await this.ip(netns, ["-d", "-j", "link", "show", "dev", name], { allowFailure: true });
    if (res.code !== 0) {
      if (/does not exist/.test(res.stderr)) return undefined;
      throw new TartanError("kernel-read-failed", `reading link ${name}: ${res.stderr.trim()}`);
    }
    return parseIpLinks(res.stdout)[0];
  }

  async addrs(netns: NetnsRef, dev?: string): Promise<AddrInfo[]> {
    const args = ["-j", "addr", "show"];
    if (dev !== undefined) args.push("dev", dev);
    return parseIpAddrs((await this.ip(netns, args)).stdout);
  }

  async neighbours(netns: NetnsRef): Promise<NeighInfo[]> {
    return parseIpNeigh((await this.ip(netns, ["-j", "neigh", "show", "nud", "permanent"])).stdout);
  }

  async fdb(netns: NetnsRef, dev: string): Promise<FdbInfo[]> {
    const res = await this.tool("bridge", netns, ["-j", "fdb", "show", "dev", dev], { allowFailure: true });
    if (res.code !== 0) {
      if (/Cannot find device/.test(res.stderr)) return [];
      throw new TartanError("kernel-read-failed", `reading the FDB of ${dev}: ${res.stderr.trim()}`);
    }
    return parseBridgeFdb(res.stdout, dev);
  }

  async routes(netns: NetnsRef, family: 4 | 6): Promise<RouteInfo[]> {
    const res = await this.ip(netns, ["-N", "-j", `-${family}`, "route", "show", "table", "main"]);
    return parseIpRoutes(res.stdout, family);
  }

  async sysctlGet(netns: NetnsRef, key: string): Promise<string | undefined> {
    if (netns === null) return readHostSysctl(key);
    const k = sysctlKey(key);
    const res = await run(["sysctl", "-n", k], { netns, allowFailure: true });
    if (res.code === 0) return res.stdout.trim();
    if (/No such file/.test(res.stderr)) return undefined;
    throw new TartanError("sysctl-failed", `sysctl ${k} in ${netns}: ${res.stderr.trim()}`);
  }

  async sysctlSet(netns: NetnsRef, key: string, value: string): Promise<void> {
    if (netns === null) return writeHostSysctl(key, value);
    const k = sysctlKey(key);
    if (/[\n=]/.test(value)) throw new TartanError("sysctl-failed", `sysctl ${k}: invalid value "${value}"`);
    const res = await run(["sysctl", "-q", "-w", `${k}=${value}`], { netns, allowFailure: true });
    if (res.code !== 0) {
      throw new TartanError(
        "sysctl-failed",
        `sysctl -w ${k}=${value} in ${netns}: ${res.stderr.trim()}`,
        "is the key right?",
      );
    }
  }

  async netnsExists(path: string): Promise<boolean> {
    return isNetnsPath(path);
  }
}
