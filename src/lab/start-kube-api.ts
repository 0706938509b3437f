import { readFileSync, writeFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { makeKubeApiCerts } from "./kube-apiserver/kube-api-certs.ts";
import { writeKubeconfig } from "./kube-apiserver/kubeconfig.ts";
import type { KubeApiServerConfig } from "./kube-apiserver/run-kube-api-server.ts";
import { labKubeBootstrap } from "./lab-kube-objects.ts";
import type { LabPaths } from "./lab-paths.ts";
import type { LabState } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import type { LabEtcd } from "./start-etcd.ts";
import { startInNetns } from "./start-in-netns.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { waitUntil } from "./wait-until.ts";

export const KUBE_API_PORT = 6443;

export type LabKubeApi = NonNullable<LabState["kubeApi"]>;

/** Where the lab keeps the API server's files. */
export function kubeApiFiles(paths: LabPaths) {
  return {
    pki: `${paths.dir}/kube-pki`,
    config: `${paths.dir}/kube-apiserver.json`,
    log: `${paths.dir}/kube-apiserver.log`,
    kubeconfig: `${paths.dir}/kubeconfig`,
  };
}

/**
 * The lab's stand-in Kubernetes API server (src/lab/kube-apiserver/), as `tartan lab
 * kube-apiserver` inside the fabric namespace on the first bridge's address (port 6443, beside
 * etcd: every node reaches it over the underlay), storing in the lab's etcd. Its CA, server and
 * admin client certificates and token are made in <lab>/kube-pki; <lab>/kubeconfig is what the
 * agents and `tartan lab kubectl` use. It creates Tartan's CRDs and tartan-system at start.
 * Resolves once it serves; `onStarted` records the process first.
 */
export async function startKubeApi(
  paths: LabPaths,
  address: string,
  tartan: string,
  etcd: LabEtcd,
  onStarted: (p: LabKubeApi) => Promise<void>,
): Promise<LabKubeApi> {
  const f = kubeApiFiles(paths);
  const certs = await makeKubeApiCerts(f.pki, [address, "127.0.0.1"]);
  const config: KubeApiServerConfig = {
    etcd: { endpoints: [etcd.endpoint], ...(etcd.tls ? { tls: etcd.tls } : {}) },
    host: address,
    port: KUBE_API_PORT,
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
    tokens: [certs.token],
    bookmarkIntervalMs: 10_000,
    logRequests: true,
    bootstrap: labKubeBootstrap(),
  };
  writeFileSync(f.config, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  const url = `https://${address}:${KUBE_API_PORT}`;
  writeKubeconfig(f.kubeconfig, `tartan-lab-${paths.name}`, url, certs);
  const proc = await startInNetns(
    paths.fabricNetns,
    [tartan, "lab", "kube-apiserver", "--config", f.config],
    f.log,
  );
  const api: LabKubeApi = { ...proc, url, kubeconfig: f.kubeconfig };
  await onStarted(api);
  const log = () => {
    try {
      return readFileSync(f.log, "utf8");
    } catch {
      return "";
    }
  };
  let outcome: "ready" | "exited";
  try {
    outcome = await waitUntil(
      "the lab's API server serving",
      20_000,
      async () =>
        processStartTime(api.pid) !== api.startTime
          ? "exited"
          : log().includes("serving https://")
            ? "ready"
            : undefined,
      `see ${f.log}`,
      100,
    );
  } catch (e) {
    await stopLabProcess(api);
    throw e;
  }
  if (outcome === "exited") {
    throw new TartanError(
      "lab-kube-api-exited",
      `the lab's API server exited while starting:\n${log().trim().split("\n").slice(-3).join("\n")}`,
      `see ${f.log}`,
    );
  }
  return api;
}
