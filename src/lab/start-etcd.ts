import { mkdirSync, readFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { makeLabCerts } from "./lab-certs.ts";
import type { LabPaths } from "./lab-paths.ts";
import type { LabState } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { startInNetns } from "./start-in-netns.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { waitUntil } from "./wait-until.ts";

export const ETCD_CLIENT_PORT = 2379;
/** etcd's /health and /metrics, plain HTTP on the fabric's loopback only (no node reaches it). */
const ETCD_HEALTH_URL = "http://127.0.0.1:2381";

/** The lab's etcd as lab.json records it; `tls`: what its clients need (absent: plain HTTP). */
export type LabEtcd = NonNullable<LabState["etcd"]>;

/**
 * A real, single-member etcd inside the fabric namespace: clients on the first bridge's address
 * (every node reaches it over the underlay), peers on the fabric's loopback, data in the lab dir.
 * Nothing listens in the root namespace. With `tls` (the default of `lab up`), clients speak
 * TLS and must present a certificate of the lab's CA (`--client-cert-auth`): made here on first
 * start, in the lab dir (decision 0013). Resolves once /health answers on the fabric's loopback;
 * `onStarted` receives the process right away, so a failed start can still be cleaned up.
 */
export async function startEtcd(
  paths: LabPaths,
  address: string,
  tartan: string,
  tls: boolean,
  onStarted: (p: LabEtcd) => Promise<void>,
): Promise<LabEtcd> {
  mkdirSync(paths.etcdDir, { recursive: true, mode: 0o700 });
  const endpoint = `${tls ? "https" : "http"}://${address}:${ETCD_CLIENT_PORT}`;
  const peer = "http://127.0.0.1:2380";
  const certs = tls ? await makeLabCerts(paths.dir, paths.name, [address, "127.0.0.1"]) : undefined;
  const tlsArgs = certs
    ? [
        "--client-cert-auth",
        `--trusted-ca-file=${certs.caFile}`,
        `--cert-file=${certs.serverCertFile}`,
        `--key-file=${certs.serverKeyFile}`,
      ]
    : [];
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
      ...tlsArgs,
      `--listen-metrics-urls=${ETCD_HEALTH_URL}`,
      "--logger=zap",
      "--log-outputs=stderr",
    ],
    paths.etcdLog,
  );
  const etcd: LabEtcd = { ...proc, endpoint, ...(certs ? { tls: certs.client } : {}) };
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
          [
            "ip",
            "netns",
            "exec",
            paths.fabricNetns,
            tartan,
            "lab",
            "probe",
            "http",
            `${ETCD_HEALTH_URL}/health`,
          ],
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
