// Invokes CNI plugin binaries the way libcni (the runtime library under containerd, CRI-O and
// podman) does, so tests exercise the real process contract: config on stdin, parameters in CNI_*
// env vars, result or error JSON on stdout, logs on stderr. Nothing here throws on a plugin
// failure; callers assert on `code` and `json` themselves.
import { existsSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import type { TestNetns } from "./netns.ts";

export type CniCommand = "ADD" | "DEL" | "CHECK" | "GC" | "STATUS" | "VERSION";

export type JsonObject = Record<string, unknown>;

export interface InvokeResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when it is non-empty valid JSON (result on success, error on failure). */
  json?: JsonObject;
}

export interface InvokeOptions {
  /** Path of the plugin executable. */
  binary: string;
  command: CniCommand;
  containerId?: string;
  /** Container netns path (e.g. TestNetns.path). Omitted/empty is legal for DEL. */
  netns?: string;
  ifname?: string;
  /** CNI_ARGS, either the raw `K=V;K2=V2` string or a map. */
  cniArgs?: string | Record<string, string>;
  /** CNI_PATH directories (joined with ':'). */
  cniPath: string | string[];
  /** The single-plugin config written to stdin. */
  config: JsonObject;
  /**
   * Run the plugin inside this namespace (as if it were the host): `ip netns exec NAME`, which also
   * remounts /sys so plugins reading sysfs see that namespace's devices.
   */
  hostNetns?: TestNetns | string;
  /** Extra environment (merged over the inherited one). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Runs one plugin once. Like libcni, only the variables relevant to the verb are set. */
export async function invokePlugin(opts: InvokeOptions): Promise<InvokeResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...opts.env, CNI_COMMAND: opts.command };
  // Never leak CNI_* from the test runner's own environment into the plugin.
  for (const k of Object.keys(env)) if (k.startsWith("CNI_") && k !== "CNI_COMMAND") delete env[k];
  env.CNI_PATH = Array.isArray(opts.cniPath) ? opts.cniPath.join(":") : opts.cniPath;
  if (opts.command === "ADD" || opts.command === "DEL" || opts.command === "CHECK") {
    env.CNI_CONTAINERID = opts.containerId ?? "";
    env.CNI_NETNS = opts.netns ?? "";
    env.CNI_IFNAME = opts.ifname ?? "eth0";
    if (opts.cniArgs !== undefined) env.CNI_ARGS = formatCniArgs(opts.cniArgs);
  }
  const hostNs = typeof opts.hostNetns === "string" ? opts.hostNetns : opts.hostNetns?.name;
  const argv = hostNs ? ["ip", "netns", "exec", hostNs, opts.binary] : [opts.binary];
  try {
    const r = await run(argv, {
      stdin: JSON.stringify(opts.config),
      env,
      allowFailure: true,
      timeoutMs: opts.timeoutMs ?? 60_000,
    });
    return { ...r, json: parseJson(r.stdout) };
  } catch (e) {
    // Could not start (missing binary) or killed by the timeout: still a result, as promised.
    return { code: 127, stdout: "", stderr: String(e) };
  }
}

function formatCniArgs(a: string | Record<string, string>): string {
  if (typeof a === "string") return a;
  return Object.entries(a)
    .map(([k, v]) => `${k}=${v}`)
    .join(";");
}

function parseJson(s: string): JsonObject | undefined {
  if (s.trim() === "") return undefined;
  try {
    const v: unknown = JSON.parse(s);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

export interface Conflist {
  cniVersion: string;
  name: string;
  plugins: JsonObject[];
  [key: string]: unknown;
}

export interface ConflistOptions extends Omit<InvokeOptions, "binary" | "command" | "config"> {
  conflist: Conflist;
  command: Exclude<CniCommand, "VERSION">;
  /** Look plugin binaries up only here instead of along CNI_PATH (libcni's FindInPath). */
  binDir?: string;
  /**
   * Runtime-supplied capability args (e.g. {portMappings:[...], bandwidth:{...}}); each plugin gets
   * only those its `capabilities` declares, as `runtimeConfig`.
   */
  capabilityArgs?: JsonObject;
  /** For DEL and CHECK: the final ADD result (libcni caches it). */
  prevResult?: JsonObject;
  /** For GC: the attachments still valid. */
  validAttachments?: { containerID: string; ifname: string }[];
}

export interface ConflistResult {
  /** 0 when every plugin succeeded, otherwise the failing plugin's exit code. */
  code: number;
  /** ADD: the last plugin's result (what libcni caches); other verbs: the last plugin's output. */
  result?: JsonObject;
  /** Index into conflist.plugins of the plugin that failed. */
  failedAt?: number;
  /** Every invocation, in the order it ran. */
  steps: { type: string; res: InvokeResult }[];
}

/**
 * Runs a whole conflist like libcni's AddNetworkList/DelNetworkList/CheckNetworkList/GCNetworkList/
 * GetStatusNetworkList. Stops at the first failure (libcni does too, except that DEL is
 * best-effort in runtimes; here DEL also stops so tests see the first error).
 */
export async function invokeConflist(opts: ConflistOptions): Promise<ConflistResult> {
  const { conflist, command } = opts;
  const dirs = opts.binDir
    ? [opts.binDir]
    : Array.isArray(opts.cniPath)
      ? opts.cniPath
      : opts.cniPath.split(":");
  const order = command === "DEL" ? [...conflist.plugins.keys()].reverse() : [...conflist.plugins.keys()];
  const steps: ConflistResult["steps"] = [];
  let prev: JsonObject | undefined = command === "ADD" ? undefined : opts.prevResult;
  let last: JsonObject | undefined;
  for (const i of order) {
    const plugin = conflist.plugins[i]!;
    const config = pluginConfig(conflist, plugin, command, prev, opts);
    const res = await invokePlugin({
      ...opts,
      binary: findInPath(String(plugin.type), dirs),
      command,
      config,
    });
    steps.push({ type: String(plugin.type), res });
    if (res.code !== 0) return { code: res.code, result: res.json, failedAt: i, steps };
    last = res.json;
    // Only ADD threads each plugin's result into the next; DEL/CHECK all see the cached final one.
    if (command === "ADD") prev = res.json;
  }
  return { code: 0, result: command === "ADD" ? prev : last, steps };
}

/** First `dir/type` that exists, like libcni; a missing plugin yields a path that fails to exec. */
function findInPath(type: string, dirs: string[]): string {
  for (const d of dirs) if (existsSync(`${d}/${type}`)) return `${d}/${type}`;
  return `${dirs[0] ?? "."}/${type}`;
}

/** Builds one plugin's stdin the way libcni's buildOneConfig + injectRuntimeConfig do. */
function pluginConfig(
  list: Conflist,
  plugin: JsonObject,
  command: ConflistOptions["command"],
  prev: JsonObject | undefined,
  opts: ConflistOptions,
): JsonObject {
  const { capabilities, ...conf } = plugin;
  const out: JsonObject = { ...conf, name: list.name, cniVersion: list.cniVersion };
  if (command === "GC") {
    const valid = opts.validAttachments ?? [];
    out["cni.dev/valid-attachments"] = valid;
    out["cni.dev/attachments"] = valid; // legacy key, libcni sends both
    return out;
  }
  if (command === "STATUS") return out;
  if (prev !== undefined) out.prevResult = prev;
  const caps = (capabilities ?? {}) as Record<string, unknown>;
  const rc: JsonObject = {};
  for (const [k, v] of Object.entries(opts.capabilityArgs ?? {})) if (caps[k] === true) rc[k] = v;
  if (Object.keys(rc).length > 0) out.runtimeConfig = rc;
  return out;
}
