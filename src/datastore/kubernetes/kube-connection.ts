import { readFileSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { TartanError } from "../../errors/tartan-error.ts";

/** Where the API server is and how we prove who we are: what every request needs. */
export interface KubeConnection {
  /** https://HOST:PORT (http:// only for a plain test server). */
  server: string;
  /** PEM texts for Bun's fetch `tls` option; verification is always on. */
  tls: { ca?: string; cert?: string; key?: string };
  /** The bearer token to send now (re-read from its file when due), or undefined. */
  token(): string | undefined;
  /** Forget the cached token (after a 401): the next token() reads the file again. */
  refreshToken(): void;
  /** For messages: which kubeconfig / in-cluster. */
  source: string;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Bound service-account tokens rotate (kubelet refreshes the file); re-read at this pace. */
export const TOKEN_REREAD_MS = 60_000;

const configError = (message: string, hint: string) => new TartanError("datastore-auth", message, hint);

function readText(path: string, what: string, source: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new TartanError(
      "datastore-tls",
      `${source}: cannot read ${what} ${path}: ${(e as Error).message}`,
      "check the path and that the agent may read it",
    );
  }
}

/**
 * A token read from a file, cached for `rereadMs` (a rotated token is picked up without a
 * restart; a 401 forces a re-read at once).
 */
export function tokenFromFile(path: string, source: string, now = Date.now, rereadMs = TOKEN_REREAD_MS) {
  let cached: { value: string; at: number } | undefined;
  return {
    token(): string | undefined {
      if (!cached || now() - cached.at >= rereadMs) {
        cached = { value: readText(path, "the token file", source).trim(), at: now() };
      }
      return cached.value || undefined;
    },
    refreshToken(): void {
      cached = undefined;
    },
  };
}

export interface InClusterOptions {
  dir?: string;
  env?: Record<string, string | undefined>;
  now?: () => number;
}

/** The pod's service account: token + CA from the mounted dir, the server from the env. */
export function inClusterConnection(o: InClusterOptions = {}): KubeConnection {
  const dir = o.dir ?? SERVICE_ACCOUNT_DIR;
  const env = o.env ?? process.env;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT || "443";
  const source = "in-cluster service account";
  if (!host) {
    throw new TartanError(
      "datastore-unavailable",
      `${source}: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)`,
      "run the agent in the tartan-node DaemonSet, set KUBERNETES_SERVICE_HOST/PORT, or give datastore.kubeconfig",
    );
  }
  const h = host.includes(":") ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    tls: { ca: readText(join(dir, "ca.crt"), "the service account CA", source) },
    ...tokenFromFile(join(dir, "token"), source, o.now),
    source,
  };
}

type Named<T> = { name?: string } & T;
interface KubeconfigFile {
  "current-context"?: string;
  clusters?: Named<{ cluster?: Record<string, unknown> }>[];
  users?: Named<{ user?: Record<string, unknown> }>[];
  contexts?: Named<{ context?: { cluster?: string; user?: string } }>[];
}

/**
 * A kubeconfig file: the current (or named) context's cluster and user. Supported: server,
 * certificate-authority(-data), token, tokenFile, client-certificate(-data) + client-key(-data).
 * insecure-skip-tls-verify and exec / auth-provider plugins are refused, not ignored.
 */
export function kubeconfigConnection(path: string, context?: string, now = Date.now): KubeConnection {
  const source = `kubeconfig ${path}`;
  let doc: KubeconfigFile;
  try {
    doc = (parseYaml(readText(path, "the kubeconfig", source)) ?? {}) as KubeconfigFile;
  } catch (e) {
    if (e instanceof TartanError) throw e;
    throw configError(
      `${source}: not valid YAML: ${(e as Error).message}`,
      "check the file (kubectl config view --kubeconfig FILE)",
    );
  }
  const ctxName = context ?? doc["current-context"];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context;
  if (!ctx) {
    throw configError(
      `${source}: no context ${JSON.stringify(ctxName ?? "")}`,
      "set current-context in the file or datastore.context in the agent config",
    );
  }
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster ?? {};
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const server = typeof cluster.server === "string" ? cluster.server.replace(/\/+$/, "") : "";
  // A path prefix is allowed (an API server behind a proxy: https://host/k8s/clusters/c-1).
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(server)) {
    throw configError(
      `${source}: cluster ${ctx.cluster}: server must be https://HOST:PORT[/PATH], not ${JSON.stringify(cluster.server)}`,
      "fix clusters[].cluster.server",
    );
  }
  if (cluster["insecure-skip-tls-verify"] === true) {
    throw new TartanError(
      "datastore-tls",
      `${source}: insecure-skip-tls-verify is set: tartan always verifies the API server's certificate`,
      "give certificate-authority or certificate-authority-data instead",
    );
  }
  for (const k of ["exec", "auth-provider", "username"]) {
    if (user[k] !== undefined) {
      throw configError(
        `${source}: user ${ctx.user}: "${k}" is not supported`,
        "use a token, tokenFile or a client certificate",
      );
    }
  }
  const base = dirname(path);
  const file = (v: unknown) => (typeof v === "string" && v ? (isAbsolute(v) ? v : join(base, v)) : undefined);
  const pem = (dataKey: string, fileKey: string, holder: Record<string, unknown>, what: string) => {
    const data = holder[dataKey];
    if (typeof data === "string" && data) return Buffer.from(data, "base64").toString("utf8");
    const f = file(holder[fileKey]);
    return f ? readText(f, what, source) : undefined;
  };
  const tls = {
    ca: pem("certificate-authority-data", "certificate-authority", cluster, "the cluster CA"),
    cert: pem("client-certificate-data", "client-certificate", user, "the client certificate"),
    key: pem("client-key-data", "client-key", user, "the client key"),
  };
  if (!tls.cert !== !tls.key) {
    throw configError(
      `${source}: user ${ctx.user}: a client certificate needs its key (and the other way round)`,
      "give both client-certificate and client-key",
    );
  }
  const tokenFile = file(user.tokenFile);
  const staticToken = typeof user.token === "string" && user.token ? user.token : undefined;
  const t = tokenFile
    ? tokenFromFile(tokenFile, source, now)
    : { token: () => staticToken, refreshToken: () => {} };
  return { server, tls, ...t, source };
}
