import { mkdirSync, readFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { LabPaths } from "./lab-paths.ts";
import type { LabProcess } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { startInNetns } from "./start-in-netns.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { waitUntil } from "./wait-until.ts";

export const ETCD_CLIENT_PORT = 2379;

/**
 * A real, single-member etcd inside the fabric namespace: clients on the first bridge's address
 * (every node reaches it over the underlay), peers on the fabric's loopback, data in the lab dir.
 * Nothing listens in the root namespace. Resolves once /health answers from inside the fabric;
 * `onStarted` receives the process right away, so a failed start can still be cleaned up.
 */
export async function startEtcd(
  paths: LabPaths,
  address: string,
  tartan: string,
  onStarted: (p: LabProcess & { endpoint: string }) => Promise<void>,
): Promise<LabProcess & { endpoint: string }> {
  mkdirSync(paths.etcdDir, { recursive: true, mode: 0o700 });
  const endpoint = `http://${address}:${ETCD_CLIENT_PORT}`;
  const peer = "http://127.0.0.1:2380";
  const proc = await startInNetns(
    paths.fabricNetns,
    [
      "etcd",
      "--name=lab",
      `--data-dir=${paths.etcdDir}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=lab=${peer}`,
      "--initial-cluster-state=new",
      "--logger=zap",
      "--log-outputs=stderr",
    ],
    paths.etcdLog,
  );
  const etcd = { ...proc, endpoint };
  await onStarted(etcd);
  let outcome: "ready" | "exited";
  try {
    outcome = await waitUntil(
      "etcd health",
      20_000,
      async () => {
        // An etcd that exited (port taken, bad data dir, not installed) will not come back.
        if (processStartTime(etcd.pid) !== etcd.startTime) return "exited";
        const r = await run(
          ["ip", "netns", "exec", paths.fabricNetns, tartan, "lab", "probe", "http", `${endpoint}/health`],
          { timeoutMs: 5000 },
        );
        return r.stdout.includes('"health":"true"') ? "ready" : undefined;
      },
      `see ${paths.etcdLog}`,
      200,
    );
  } catch (e) {
    await stopLabProcess(etcd);
    throw e;
  }
  if (outcome === "exited") {
    let tail = "";
    try {
      tail = readFileSync(paths.etcdLog, "utf8").trim().split("\n").slice(-3).join("\n");
    } catch {}
    throw new TartanError(
      "lab-etcd-exited",
      `etcd exited while starting:\n${tail}`,
      `see ${paths.etcdLog}; is etcd-server installed?`,
    );
  }
  return etcd;
}
