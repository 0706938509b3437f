// Starts bench/convergence/remote-nodes.ts inside a lab's fabric namespace (where its etcd and
// stand-in API server listen) and returns what it measured; tracked for cleanup, stopped by PID.
import { resolve } from "node:path";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { trackProcess } from "../lab/cleanup.ts";
import { TARTAN } from "../lab/lab-cli.ts";
import { type LabEtcdInfo, labEtcdArgv } from "../lab/lab-etcd.ts";

export interface RemoteTrial {
  n: number;
  total: number;
  writes: number;
  afterWrites: number;
  removal: number;
  /** ms until the bench's own bare watch saw every create / delete (-1: not within 10 s). */
  watched?: number;
  removalWatched?: number;
  applies: number;
  applySeconds: number;
  kernelChanges: number;
  writesInLog: { ms: number; changes: number; steps?: string }[];
  removalInLog?: { ms: number; changes: number; steps?: string }[];
}

export interface RemoteRun {
  results: RemoteTrial[];
  profiles: Record<string, number>[];
}

export async function runRemoteNodes(o: {
  lab: string;
  mode: "burst" | "one-by-one";
  trials: number;
  counts: number[];
  etcd: LabEtcdInfo;
  /** Write through the lab's stand-in Kubernetes API with this kubeconfig instead of into etcd. */
  kubeconfig?: string;
  /** How the helper watches node-1's kernel: notifications (default) or repeated dumps. */
  kernelPoll?: "events" | "dump";
}): Promise<RemoteRun> {
  const paths = labPaths(o.lab);
  const p = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      paths.fabricNetns,
      process.execPath,
      resolve(import.meta.dir, "remote-nodes.ts"),
      ...(o.kubeconfig ? ["--datastore", "kubernetes", "--kubeconfig", o.kubeconfig] : labEtcdArgv(o.etcd)),
      "--node-netns",
      paths.nodeNetns(1),
      "--agent-log",
      `${paths.nodeDir("node-1")}/agent.log`,
      "--counts",
      o.counts.join(","),
      "--trials",
      String(o.trials),
      "--mode",
      o.mode,
      "--kernel-poll",
      o.kernelPoll ?? "events",
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "inherit", env: { ...process.env, TARTAN_BIN: TARTAN } },
  );
  trackProcess(p);
  const text = await new Response(p.stdout as ReadableStream).text();
  const code = await p.exited;
  if (code !== 0) throw new Error(`remote-nodes helper exited ${code} (lab ${o.lab})`);
  return JSON.parse(text) as RemoteRun;
}
