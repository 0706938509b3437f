import { readFileSync } from "node:fs";
import { stopSignal } from "../../exec/stop-signal.ts";
import { type KubeApiServerOptions, serveKubeApi } from "./serve-kube-api.ts";

/** The config file of `tartan lab kube-apiserver --config FILE` (JSON): the server's options. */
export type KubeApiServerConfig = Omit<KubeApiServerOptions, "log"> & { logRequests?: boolean };

/**
 * The process the lab starts inside its fabric namespace: serves until SIGTERM/SIGINT, then closes
 * every watch and exits 0. Prints `serving URL` once it listens (the lab waits for that line).
 */
export async function runKubeApiServer(configFile: string): Promise<number> {
  const config = JSON.parse(readFileSync(configFile, "utf8")) as KubeApiServerConfig;
  const server = await serveKubeApi({
    ...config,
    ...(config.logRequests
      ? { log: (l: string) => process.stdout.write(`${new Date().toISOString()} ${l}\n`) }
      : {}),
  });
  process.stdout.write(`serving ${server.url}\n`);
  await stopSignal();
  await server.close();
  return 0;
}
