import { readFileSync } from "node:fs";
import { parse } from "yaml";

/** What a request needs from a kubeconfig written by `writeKubeconfig` (current context). */
interface KubeTarget {
  server: string;
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

interface Kubeconfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: { server: string; "certificate-authority"?: string } }[];
  users?: { name: string; user: { "client-certificate"?: string; "client-key"?: string; token?: string } }[];
}

function targetOf(kubeconfig: string): KubeTarget {
  const k = parse(readFileSync(kubeconfig, "utf8")) as Kubeconfig;
  const ctx = k.contexts?.find((c) => c.name === k["current-context"])?.context;
  const cluster = k.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = k.users?.find((u) => u.name === ctx?.user)?.user;
  if (!cluster?.server || !cluster["certificate-authority"]) {
    throw new Error(`${kubeconfig}: no server or certificate-authority in its current context`);
  }
  const cert = user?.["client-certificate"];
  const key = user?.["client-key"];
  return {
    server: cluster.server,
    ca: readFileSync(cluster["certificate-authority"], "utf8"),
    ...(cert && key ? { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") } : {}),
    ...(user?.token ? { token: user.token } : {}),
  };
}

/**
 * One request to the stand-in API server with the credentials of a kubeconfig the lab wrote
 * (the lab's own kubelet-like writes: Pods, their status, labels). Answers the HTTP status and
 * the JSON body.
 */
export async function kubeRequest(
  kubeconfig: string,
  method: string,
  path: string,
  body?: string,
  contentType = "application/json",
): Promise<{ status: number; body: unknown }> {
  const t = targetOf(kubeconfig);
  const r = await fetch(`${t.server}${path}`, {
    method,
    headers: {
      ...(body ? { "content-type": contentType } : {}),
      ...(t.token && !t.cert ? { authorization: `Bearer ${t.token}` } : {}),
    },
    ...(body ? { body } : {}),
    tls: { ca: t.ca, ...(t.cert ? { cert: t.cert, key: t.key } : {}) },
    signal: AbortSignal.timeout(20_000),
  } as RequestInit);
  const text = await r.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: r.status, body: parsed };
}
