import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import type { EtcdTlsFiles } from "../../datastore/datastore-config.ts";
import { RawEtcd } from "../../datastore/etcd/raw-etcd.ts";
import { ApiError } from "./api-error.ts";
import { type ApiResource, CRD_RESOURCE, NAMESPACE_RESOURCE } from "./api-resource.ts";
import { type KubeObject, ObjectStore } from "./object-store.ts";
import { openApiV2Json, openApiV2Protobuf } from "./openapi-v2.ts";
import { type CrdObject, ResourceRegistry } from "./resource-registry.ts";
import { patchTypeOf, ResourceVerbs } from "./resource-verbs.ts";
import { parseFieldSelector, parseLabelSelector } from "./selector-query.ts";
import { tableOf, wantsTable } from "./table-view.ts";
import { startWatch } from "./watch-stream.ts";

export interface KubeApiServerOptions {
  etcd: { endpoints: string[]; tls?: EtcdTlsFiles };
  /** Where to listen (inside a lab or test namespace only); port 0 picks a free one. */
  host: string;
  port: number;
  /** The server's certificate and key, and the CA whose client certificates it accepts. */
  tls: { certFile: string; keyFile: string; clientCaFile: string };
  /** Bearer tokens it accepts (besides client certificates of `clientCaFile`). */
  tokens: string[];
  /** How often a watch with allowWatchBookmarks gets a BOOKMARK (default 60 s, kube-apiserver's order). */
  bookmarkIntervalMs?: number;
  /** One line per request (method, path, status); default: nothing. */
  log?: (line: string) => void;
  /** Objects created at start-up when absent (the lab's CRDs and namespaces), in order. */
  bootstrap?: KubeObject[];
}

export interface KubeApiServer {
  url: string;
  port: number;
  /** Stops listening and ends every open request and watch. */
  close(): Promise<void>;
}

/** The Kubernetes minor version it claims: kubectl's dispatcher picks its 1.30 client from it. */
export const SERVED_VERSION = { major: "1", minor: "30", gitVersion: "v1.30.0-tartan.stand-in" };

const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

interface Target {
  r: ApiResource;
  namespace?: string;
  name?: string;
  sub?: string;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString()));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The lab's stand-in Kubernetes API server (README.md: what it is, what it is not): HTTPS with
 * client-certificate or bearer-token authentication, discovery (built-in kinds plus every CRD
 * stored), a minimal OpenAPI v2, and the resource verbs over etcd (ObjectStore, ResourceVerbs,
 * startWatch). Never for anything but the lab and tests: no admission, no authorization.
 */
export async function serveKubeApi(o: KubeApiServerOptions): Promise<KubeApiServer> {
  const etcd = new RawEtcd({ endpoints: o.etcd.endpoints, ...(o.etcd.tls ? { tls: o.etcd.tls } : {}) });
  const store = new ObjectStore(etcd);
  const registry = new ResourceRegistry();
  const verbs = new ResourceVerbs(store, registry);
  const tokens = new Set(o.tokens);
  const log = o.log ?? (() => {});
  const closers = new Set<() => void>();

  // Start-up: the CRDs stored (dynamic discovery) and the namespaces kube-apiserver makes itself.
  for (const crd of (await store.list(CRD_RESOURCE, { filter: () => true })).items)
    registry.setCrd(crd as unknown as CrdObject);
  for (const ns of SYSTEM_NAMESPACES) {
    try {
      await verbs.create(NAMESPACE_RESOURCE, undefined, { metadata: { name: ns } });
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
    }
  }

  for (const obj of o.bootstrap ?? []) {
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const r = registry.all().find((x) => x.group === group && x.version === version && x.kind === obj.kind);
    if (!r) throw new Error(`bootstrap: no resource serves ${obj.apiVersion} ${obj.kind}`);
    try {
      await verbs.create(r, obj.metadata.namespace, obj);
    } catch (e) {
      if (!(e instanceof ApiError && e.reason === "AlreadyExists")) throw e;
    }
  }

  const authenticated = (req: IncomingMessage): boolean => {
    if ((req.socket as TLSSocket).authorized) return true;
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    return m !== null && tokens.has(m[1]!);
  };

  const target = (parts: string[]): Target | undefined => {
    let group = "";
    let version: string;
    let rest: string[];
    if (parts[0] === "api") {
      version = parts[1]!;
      rest = parts.slice(2);
    } else {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    }
    const find = (res: string | undefined) => (res ? registry.find(group, version, res) : undefined);
    if (rest[0] === "namespaces" && rest.length >= 3) {
      const r = find(rest[2]);
      if (r?.namespaced)
        return {
          r,
          namespace: rest[1]!,
          ...(rest[3] ? { name: rest[3] } : {}),
          ...(rest[4] ? { sub: rest[4] } : {}),
        };
    }
    const r = find(rest[0]);
    if (!r) return undefined;
    return { r, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { sub: rest[2] } : {}) };
  };

  const handleResource = async (req: IncomingMessage, res: ServerResponse, t: Target, q: URLSearchParams) => {
    const { r, namespace, name, sub } = t;
    if (sub !== undefined && !(sub === "status" && r.status)) {
      throw new ApiError(
        "NotFound",
        `the server could not find the requested resource (${r.resource}/${sub})`,
      );
    }
    const method = req.method ?? "GET";
    // A dry run would be written for real here: refuse it rather than surprise anyone.
    if (q.has("dryRun") && method !== "GET") {
      throw new ApiError("BadRequest", "dryRun is not supported by the lab's stand-in API server");
    }
    const filterOf = () => {
      const labels = parseLabelSelector(q.get("labelSelector"));
      const fields = parseFieldSelector(q.get("fieldSelector"), r.fields, r.kind);
      return (x: KubeObject) => labels(x.metadata.labels) && fields(x);
    };
    if (name === undefined) {
      if (method === "POST")
        return json(res, 201, await verbs.create(r, namespace, JSON.parse(await readBody(req))));
      if (method !== "GET")
        throw new ApiError("MethodNotAllowed", `${method} is not supported on a collection`);
      const filter = filterOf();
      if (q.get("watch") === "true" || q.get("watch") === "1") {
        return await serveWatch(res, t, q, filter, wantsTable(req.headers.accept));
      }
      const limit = Number(q.get("limit") ?? 0);
      const exact =
        q.get("resourceVersionMatch") === "Exact" ? (q.get("resourceVersion") ?? undefined) : undefined;
      const page = await store.list(r, {
        ...(namespace ? { namespace } : {}),
        ...(limit > 0 ? { limit } : {}),
        ...(q.get("continue") ? { continueToken: q.get("continue")! } : {}),
        ...(exact ? { exactRevision: exact } : {}),
        filter,
      });
      const listMeta = {
        resourceVersion: page.resourceVersion,
        ...(page.continueToken ? { continue: page.continueToken } : {}),
      };
      if (wantsTable(req.headers.accept)) return json(res, 200, tableOf(r, page.items, listMeta));
      return json(res, 200, {
        kind: `${r.kind}List`,
        apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
        metadata: {
          resourceVersion: page.resourceVersion,
          ...(page.continueToken ? { continue: page.continueToken } : {}),
        },
        items: page.items,
      });
    }
    switch (method) {
      case "GET": {
        const obj = await store.get(r, namespace, name);
        if (wantsTable(req.headers.accept) && sub === undefined) {
          return json(res, 200, tableOf(r, [obj], { resourceVersion: obj.metadata.resourceVersion }));
        }
        return json(res, 200, obj);
      }
      case "PUT":
        return json(res, 200, await verbs.update(r, namespace, name, JSON.parse(await readBody(req)), sub));
      case "PATCH":
        return json(
          res,
          200,
          await verbs.patch(
            r,
            namespace,
            name,
            patchTypeOf(req.headers["content-type"]),
            await readBody(req),
            sub,
          ),
        );
      case "DELETE": {
        const body = await readBody(req);
        return json(res, 200, await verbs.delete(r, namespace, name, body ? JSON.parse(body) : undefined));
      }
      default:
        throw new ApiError("MethodNotAllowed", `${method} is not supported`);
    }
  };

  const serveWatch = async (
    res: ServerResponse,
    t: Target,
    q: URLSearchParams,
    filter: (x: KubeObject) => boolean,
    asTable: boolean,
  ) => {
    let headers = false;
    const ensureHeaders = () => {
      if (headers) return;
      headers = true;
      res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
      res.flushHeaders(); // the client sees its watch established before the first event
    };
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      ensureHeaders();
      res.end();
    };
    const stop = await startWatch(
      store,
      t.r,
      {
        ...(t.namespace ? { namespace: t.namespace } : {}),
        ...(q.get("resourceVersion") ? { resourceVersion: q.get("resourceVersion")! } : {}),
        filter,
        bookmarks: q.get("allowWatchBookmarks") === "true",
        sendInitialEvents: q.get("sendInitialEvents") === "true",
        bookmarkIntervalMs: o.bookmarkIntervalMs ?? 60_000,
      },
      {
        send: (ev) => {
          if (ended) return;
          ensureHeaders();
          const row = asTable && ["ADDED", "MODIFIED", "DELETED"].includes(ev.type);
          const o = ev.object as KubeObject;
          const out = row
            ? { type: ev.type, object: tableOf(t.r, [o], { resourceVersion: o.metadata.resourceVersion }) }
            : ev;
          res.write(`${JSON.stringify(out)}\n`);
        },
        end,
      },
    );
    ensureHeaders();
    const closer = () => {
      stop();
      end();
    };
    closers.add(closer);
    const timeout = Number(q.get("timeoutSeconds") ?? 1800);
    const timer = setTimeout(closer, Math.max(1, timeout) * 1000);
    res.on("close", () => {
      clearTimeout(timer);
      closers.delete(closer);
      stop();
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "https://x");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const parts = path.split("/").filter((p) => p !== "");
    if (!authenticated(req)) throw new ApiError("Unauthorized", "Unauthorized");
    if (req.method === "GET") {
      if (path === "/version") return json(res, 200, { ...SERVED_VERSION, platform: "linux/amd64" });
      if (["/healthz", "/livez", "/readyz"].includes(path)) {
        res.writeHead(200, { "Content-Type": "text/plain" });
        return res.end("ok");
      }
      if (path === "/api") return json(res, 200, registry.apiVersions(`${o.host}:${port}`));
      if (path === "/apis") return json(res, 200, registry.apiGroupList());
      if (path === "/openapi/v2") {
        if ((req.headers.accept ?? "").includes("protobuf")) {
          const pb = openApiV2Protobuf(SERVED_VERSION.gitVersion);
          res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": pb.length });
          return res.end(pb);
        }
        return json(res, 200, openApiV2Json(SERVED_VERSION.gitVersion));
      }
      if (parts[0] === "apis" && parts.length === 2) {
        const g = registry.apiGroup(parts[1]!);
        if (g) return json(res, 200, g);
      }
      if ((parts[0] === "api" && parts.length === 2) || (parts[0] === "apis" && parts.length === 3)) {
        const list =
          parts[0] === "api"
            ? registry.apiResourceList("", parts[1]!)
            : registry.apiResourceList(parts[1]!, parts[2]!);
        if (list) return json(res, 200, list);
      }
    }
    const t =
      (parts[0] === "api" && parts.length >= 3) || (parts[0] === "apis" && parts.length >= 4)
        ? target(parts)
        : undefined;
    if (!t) throw new ApiError("NotFound", `the server could not find the requested resource`);
    await handleResource(req, res, t, url.searchParams);
  };

  const server = https.createServer(
    {
      cert: readFileSync(o.tls.certFile),
      key: readFileSync(o.tls.keyFile),
      ca: readFileSync(o.tls.clientCaFile),
      requestCert: true,
      rejectUnauthorized: false,
    },
    (req, res) => {
      handle(req, res)
        .then(() => log(`${req.method} ${req.url} ${res.statusCode}`))
        .catch((e) => {
          const err =
            e instanceof ApiError
              ? e
              : e instanceof SyntaxError
                ? new ApiError("BadRequest", `the request body does not parse: ${e.message}`)
                : new ApiError("InternalError", `Internal error occurred: ${(e as Error).message ?? e}`);
          log(`${req.method} ${req.url} ${err.code} ${err.message}`);
          if (res.headersSent) return res.end();
          json(res, err.code, err.status());
        });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`,
    port,
    close: async () => {
      for (const c of [...closers]) c();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      etcd.close();
    },
  };
}
