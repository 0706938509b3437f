import { writeFileSync } from "node:fs";
import { stringify } from "yaml";
import type { KubeApiCerts } from "./kube-api-certs.ts";

/**
 * A kubeconfig for the stand-in API server at `server`: context `<name>` authenticates with the
 * admin client certificate (current), context `<name>-token` with the bearer token. Mode 0600.
 */
export function writeKubeconfig(file: string, name: string, server: string, c: KubeApiCerts): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster: { server, "certificate-authority": c.caFile } }],
    users: [
      {
        name: `${name}-admin`,
        user: { "client-certificate": c.clientCertFile, "client-key": c.clientKeyFile },
      },
      { name: `${name}-token`, user: { token: c.token } },
    ],
    contexts: [
      { name, context: { cluster: name, user: `${name}-admin` } },
      { name: `${name}-token`, context: { cluster: name, user: `${name}-token` } },
    ],
    "current-context": name,
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}
