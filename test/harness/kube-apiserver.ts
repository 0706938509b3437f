// The lab's stand-in Kubernetes API server (src/lab/kube-apiserver/) for tests: runs in this
// process on 127.0.0.1 of the test's private network namespace, on a real etcd (test/harness/
// etcd.ts), with its own CA, server and client certificates, a bearer token and a kubeconfig in a
// temp dir. stop()/start()/restart() keep port, certificates and data (a restart mid-watch ends
// every open watch, as a real API server restart does); compact() compacts etcd's history up to
// now, so any older resourceVersion answers 410. See /work/wt/notes/k8s-server-interface.md.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { EtcdTlsFiles } from "../../src/datastore/datastore-config.ts";
import { RawEtcd } from "../../src/datastore/etcd/raw-etcd.ts";
import { type KubeApiCerts, makeKubeApiCerts } from "../../src/lab/kube-apiserver/kube-api-certs.ts";
import { writeKubeconfig } from "../../src/lab/kube-apiserver/kubeconfig.ts";
import { type KubeApiServer, serveKubeApi } from "../../src/lab/kube-apiserver/serve-kube-api.ts";
import { tartanCrd } from "../../src/lab/lab-kube-objects.ts";
import type { EtcdServer } from "./etcd.ts";

export interface KubeApiServerFixture {
  /** https://127.0.0.1:PORT */
  url: string;
  /** The CA of the server's certificate (and of the client certificate). */
  caFile: string;
  /** A client certificate the server accepts (CN admin). */
  clientCertFile: string;
  clientKeyFile: string;
  /** A bearer token the server accepts, and a file holding it. */
  token: string;
  tokenFile: string;
  /** kubeconfig: context "tartan-test" (client certificate, current) and "tartan-test-token". */
  kubeconfigPath: string;
  dir: string;
  /** Stops the API server (etcd keeps running); open watches end. */
  stop(): Promise<void>;
  /** Starts it again on the same port, certificates and etcd. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Compacts etcd's history up to its current revision (returned): older versions answer 410. */
  compact(): Promise<string>;
  /** The current etcd revision (a resourceVersion every object and list is at or below). */
  revision(): Promise<string>;
  /** Stops it and removes its files (not etcd: the caller owns that). */
  cleanup(): Promise<void>;
  /** The requests served so far, one line each (method, path, code). */
  requests: string[];
  /** A request with the admin client certificate: status and parsed JSON body (undefined if empty). */
  api(path: string, init?: RequestInit): Promise<ApiAnswer>;
}

export interface ApiAnswer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: any Kubernetes JSON; tests check it with expect()
  body: any;
}

export interface KubeApiServerFixtureOptions {
  etcd: Pick<EtcdServer, "endpoint">;
  /** The etcd's CA and client certificate, when it serves TLS. */
  etcdTls?: EtcdTlsFiles;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms here). */
  bookmarkIntervalMs?: number;
}

export async function startKubeApiServer(o: KubeApiServerFixtureOptions): Promise<KubeApiServerFixture> {
  const dir = mkdtempSync(join(tmpdir(), "tt-t-kapi-"));
  let certs: KubeApiCerts;
  try {
    certs = await makeKubeApiCerts(dir, ["127.0.0.1"]);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const etcd = { endpoints: [o.etcd.endpoint], ...(o.etcdTls ? { tls: o.etcdTls } : {}) };
  const raw = new RawEtcd(etcd);
  const requests: string[] = [];
  let server: KubeApiServer | undefined;
  let port = 0;
  const start = async () => {
    if (server) return;
    server = await serveKubeApi({
      etcd,
      host: "127.0.0.1",
      port,
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, clientCaFile: certs.caFile },
      tokens: [certs.token],
      bookmarkIntervalMs: o.bookmarkIntervalMs ?? 1000,
      log: (l) => requests.push(l),
    });
    port = server.port;
  };
  const stop = async () => {
    const s = server;
    server = undefined;
    await s?.close();
  };
  await start();
  const url = server!.url;
  const kubeconfigPath = join(dir, "kubeconfig");
  writeKubeconfig(kubeconfigPath, "tartan-test", url, certs);
  const revision = async () => (await raw.get("/")).revision;
  const tls = {
    ca: readFileSync(certs.caFile, "utf8"),
    cert: readFileSync(certs.clientCertFile, "utf8"),
    key: readFileSync(certs.clientKeyFile, "utf8"),
  };
  return {
    url,
    caFile: certs.caFile,
    clientCertFile: certs.clientCertFile,
    clientKeyFile: certs.clientKeyFile,
    token: certs.token,
    tokenFile: certs.tokenFile,
    kubeconfigPath,
    dir,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    compact: async () => {
      const rev = await revision();
      await raw.compact(rev);
      return rev;
    },
    revision,
    cleanup: async () => {
      await stop();
      raw.close();
      rmSync(dir, { recursive: true, force: true });
    },
    requests,
    api: async (path, init = {}) => {
      const r = await fetch(`${url}${path}`, { ...init, tls } as RequestInit);
      const text = await r.text();
      return { status: r.status, body: text ? JSON.parse(text) : undefined };
    },
  };
}

/**
 * A CustomResourceDefinition of the tartan.dev group that keeps whatever it is given: for tests
 * that need the adapter's kinds served (deploy/ carries the CRDs with their full schemas).
 */
export function permissiveCrd(kind: string, plural: string) {
  return tartanCrd(plural, kind, { type: "object", "x-kubernetes-preserve-unknown-fields": true });
}

/** A request as the admin (client certificate) that fails the test on an error answer; the parsed body. */
export async function adminRequest<T>(
  kube: KubeApiServerFixture,
  method: string,
  path: string,
  body?: unknown,
  contentType = "application/json",
): Promise<T> {
  const r = await kube.api(path, {
    method,
    headers: { "content-type": contentType },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (r.status < 200 || r.status > 299)
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as T;
}
