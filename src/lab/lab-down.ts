import { existsSync, readdirSync, rmSync } from "node:fs";
import { run } from "../exec/run.ts";
import { killNetnsResidents } from "./kill-netns-residents.ts";
import { labPaths } from "./lab-paths.ts";
import type { LabProcess, LabState } from "./lab-state.ts";
import { readLabState } from "./read-lab-state.ts";
import { frrCrashDir } from "./start-tor.ts";
import { stopLabProcess } from "./stop-lab-process.ts";

export interface LabDownResult {
  name: string;
  /** Whether there was anything of this lab to remove. */
  existed: boolean;
  stopped: { what: string; pid: number }[];
  killed: number[];
  namespaces: string[];
  dir?: string;
  /** What could not be removed (a namespace still mounted): non-empty means `down` failed. */
  leftovers: string[];
}

function recorded(state: LabState | undefined): { what: string; proc: LabProcess }[] {
  if (!state) return [];
  return [
    ...state.pods.flatMap((p) =>
      p.responder ? [{ what: `responder ${p.namespace}/${p.name}`, proc: p.responder }] : [],
    ),
    ...state.nodes.flatMap((n) => (n.agent ? [{ what: `agent ${n.name}`, proc: n.agent }] : [])),
    // The ToR's FRR daemons (`lab up --tor`): ours, by PID, never the system's frr service.
    ...(state.tor?.bgpd ? [{ what: "ToR bgpd", proc: state.tor.bgpd }] : []),
    ...(state.tor?.zebra ? [{ what: "ToR zebra", proc: state.tor.zebra }] : []),
  ];
}

function labNamespaces(prefix: string): string[] {
  try {
    return readdirSync("/run/netns").filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/**
 * Removes everything a lab created, whatever state it is in (half up, already down): the
 * processes it recorded, by PID (responders and agents, then etcd), anything else still living
 * in its namespaces, the namespaces themselves (tl-<lab>-*: pods, nodes, fabric) and its dir.
 */
export async function labDown(name: string): Promise<LabDownResult> {
  const paths = labPaths(name);
  let state: LabState | undefined;
  try {
    state = readLabState(paths);
  } catch {}
  const result: LabDownResult = {
    name,
    existed: false,
    stopped: [],
    killed: [],
    namespaces: [],
    leftovers: [],
  };
  const stop = async (what: string, proc: LabProcess) => {
    if (await stopLabProcess(proc)) result.stopped.push({ what, pid: proc.pid });
  };
  await Promise.all(recorded(state).map((r) => stop(r.what, r.proc)));
  if (state?.kubeApi) await stop("kube-apiserver", state.kubeApi);
  for (const [daemon, proc] of [
    ["bgpd", state?.tor?.bgpd],
    ["zebra", state?.tor?.zebra],
  ] as const) {
    if (proc) rmSync(frrCrashDir(daemon, proc.pid), { recursive: true, force: true });
  }
  if (state?.etcd) await stop("etcd", state.etcd);

  // Pods first: their host veths live in the nodes, whose namespaces go next, the fabric last.
  const all = labNamespaces(paths.netnsPrefix);
  const order = (n: string) => (n.startsWith(`${paths.netnsPrefix}p-`) ? 0 : n === paths.fabricNetns ? 2 : 1);
  for (const rank of [0, 1, 2]) {
    await Promise.all(
      all
        .filter((n) => order(n) === rank)
        .map(async (ns) => {
          result.killed.push(...(await killNetnsResidents(ns)));
          await run(["ip", "netns", "del", ns], { allowFailure: true });
          if (existsSync(`/run/netns/${ns}`)) result.leftovers.push(`namespace ${ns}`);
          else result.namespaces.push(ns);
        }),
    );
  }
  if (existsSync(paths.dir)) {
    rmSync(paths.dir, { recursive: true, force: true });
    if (existsSync(paths.dir)) result.leftovers.push(`directory ${paths.dir}`);
    else result.dir = paths.dir;
  }
  result.existed = Boolean(state) || result.namespaces.length > 0 || result.dir !== undefined;
  return result;
}
