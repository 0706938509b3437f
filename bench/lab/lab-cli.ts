// A benchmark drives the lab through the real executable (`dist/tartan lab …`), as a user does.
import { resolve } from "node:path";
import { run } from "../../src/exec/run.ts";
import type { LabEtcdInfo } from "./lab-etcd.ts";

export const TARTAN = process.env.TARTAN_BIN || resolve(import.meta.dir, "../../dist/tartan");

export interface LabPodInfo {
  name: string;
  node: string;
  netns: string;
  /** Addresses without prefix length. */
  ips: string[];
}

export interface LabUpInfo {
  name: string;
  backend: string;
  nodes: { name: string; netns: string; underlayAddress: string; underlaySubnet: string }[];
  etcd: LabEtcdInfo;
}

async function lab(args: string[], timeoutMs = 300_000): Promise<string> {
  const r = await run([TARTAN, "lab", ...args], { timeoutMs });
  return r.stdout;
}

export async function labUp(
  name: string,
  o: {
    nodes: number;
    backend: string;
    subnets?: number;
    datastore?: "etcd" | "kubernetes";
    extra?: string[];
  },
): Promise<LabUpInfo> {
  const args = ["up", "--lab", name, "--nodes", String(o.nodes), "--backend", o.backend, "-o", "json"];
  if (o.subnets) args.push("--subnets", String(o.subnets));
  // kubernetes: the lab's stand-in API server on its etcd, agents in Kubernetes mode.
  if (o.datastore === "kubernetes") args.push("--datastore", "kubernetes");
  if (o.extra) args.push(...o.extra);
  // The lab's etcd is TLS with client certificates by default (decision 0013); this isolates
  // what TLS costs a benchmark (TARTAN_BENCH_INSECURE_ETCD=1: plain HTTP, as before 0013).
  if (process.env.TARTAN_BENCH_INSECURE_ETCD === "1") args.push("--insecure-etcd");
  return JSON.parse(await lab(args)) as LabUpInfo;
}

export async function labPodAdd(name: string, node: string, pod: string): Promise<LabPodInfo> {
  const p = JSON.parse(await lab(["pod", "add", node, pod, "--lab", name, "-o", "json"])) as {
    name: string;
    node: string;
    netns: string;
    ips: string[];
  };
  return { name: p.name, node: p.node, netns: p.netns, ips: p.ips.map((c) => c.split("/")[0]!) };
}

export async function labDown(name: string): Promise<{ leftovers: string[] }> {
  const r = await run([TARTAN, "lab", "down", "--lab", name, "-o", "json"], {
    timeoutMs: 120_000,
    allowFailure: true,
  });
  try {
    return JSON.parse(r.stdout) as { leftovers: string[] };
  } catch {
    return { leftovers: [`lab down exit ${r.code}: ${r.stderr.trim()}`] };
  }
}

/** A lab name no other run uses: 1–16 lowercase letters and digits. */
export function labName(prefix: string): string {
  return `${prefix}${Math.random().toString(36).slice(2, 8)}`.slice(0, 16);
}
