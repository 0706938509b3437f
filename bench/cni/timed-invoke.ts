// One timed plugin invocation, measured as the runtime sees it: wall clock from just before the
// spawn to the exit of the process with its output read, through the same `ip netns exec HOST`
// wrapper for both plugins so that the wrapper's cost cancels out of the ratio.

import { run } from "../../src/exec/run.ts";
import { type InvokeResult, invokePlugin, type JsonObject } from "../../test/harness/cni-invoke.ts";
import type { Side } from "./sides.ts";

export type Op = "ADD" | "DEL";

export interface Pod {
  containerId: string;
  netnsPath: string;
  /** The ADD result, sent back as prevResult on DEL the way libcni does from its cache. */
  addResult?: JsonObject;
}

export interface Timing {
  ms: number;
  ok: boolean;
  /** Why it failed (exit code, stderr, error JSON), for the report. */
  error?: string;
}

export async function timedInvoke(side: Side, op: Op, pod: Pod, hostNs: string): Promise<Timing> {
  const config: JsonObject =
    op === "DEL" && pod.addResult ? { ...side.config, prevResult: pod.addResult } : side.config;
  const t0 = performance.now();
  let res: InvokeResult;
  try {
    res = await invokePlugin({
      binary: side.binary,
      command: op,
      containerId: pod.containerId,
      netns: pod.netnsPath,
      ifname: "eth0",
      cniPath: side.cniPath,
      config,
      hostNetns: hostNs,
    });
  } catch (e) {
    return { ms: performance.now() - t0, ok: false, error: String(e) };
  }
  const ms = performance.now() - t0;
  if (res.code !== 0) {
    const detail = res.stdout.trim() || res.stderr.trim().split("\n").slice(-2).join(" / ");
    return { ms, ok: false, error: `${side.label} ${op} ${pod.containerId}: exit ${res.code}: ${detail}` };
  }
  if (op === "ADD") {
    if (!Array.isArray(res.json?.ips) || res.json.ips.length === 0) {
      return {
        ms,
        ok: false,
        error: `${side.label} ADD ${pod.containerId}: result has no ips: ${res.stdout}`,
      };
    }
    pod.addResult = res.json;
  } else {
    pod.addResult = undefined;
  }
  return { ms, ok: true };
}

/** The wrapper alone: `ip netns exec HOST true`, spawned the same way as the plugins. */
export async function timedWrapper(hostNs: string): Promise<Timing> {
  const t0 = performance.now();
  const r = await run(["ip", "netns", "exec", hostNs, "true"], { allowFailure: true });
  const ms = performance.now() - t0;
  return r.code === 0 ? { ms, ok: true } : { ms, ok: false, error: `wrapper: exit ${r.code}: ${r.stderr}` };
}
