import { TartanError } from "../errors/tartan-error.ts";
import { labMatrix } from "../lab/lab-matrix.ts";
import { saveLastMatrix } from "../lab/last-matrix.ts";
import { clusterView, type ViewSource } from "./cluster-view.ts";
import { DropFeed, type FeedItem } from "./drop-feed.ts";
import { UI_ASSETS } from "./ui-assets.ts";

/** Explains A→B (the explain command's in-process function), when this build has it. */
export type ExplainFn = (
  src: string,
  dst: string,
  port: string | undefined,
  lab: string | undefined,
) => Promise<unknown>;

export interface UiServerOptions {
  hostname: string;
  /** 0: any free port (the URL says which). */
  port: number;
  source: ViewSource;
  explain?: ExplainFn;
}

export interface UiServer {
  url: string;
  stop(): Promise<void>;
}

const KEEPALIVE_MS = 5000;
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...SECURITY_HEADERS },
  });

const failure = (status: number, e: unknown): Response =>
  json(
    status,
    e instanceof TartanError
      ? { code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) }
      : { code: "ui-error", message: e instanceof Error ? e.message : String(e) },
  );

/**
 * A Host header naming something other than the address we listen on (or localhost) is refused:
 * a page of another site that resolves its name to 127.0.0.1 (DNS rebinding) gets nothing.
 */
function hostAllowed(req: Request, listenHost: string): boolean {
  const host = (req.headers.get("host") ?? "").replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === listenHost || host === "localhost" || host === "127.0.0.1" || host === "::1";
}

/**
 * The web view's server (`tartan ui`): the page and its script and style (bundled into the
 * executable: ui-assets.ts), the cluster as JSON (/api/cluster), live drops as server-sent events
 * (/api/events), explain for a pair (/api/explain) and, in a lab, a fresh matrix (POST /api/matrix).
 * Read-only towards the cluster except that a matrix sends probe traffic inside the lab.
 */
export function serveUi(o: UiServerOptions): UiServer {
  const feed = new DropFeed(o.source.agents);
  feed.start();
  const enc = new TextEncoder();
  const server = Bun.serve({
    hostname: o.hostname,
    port: o.port,
    // SSE streams stay open; keepalives flow every 5 s, well inside this.
    idleTimeout: 60,
    fetch: async (req) => {
      if (!hostAllowed(req, o.hostname)) return new Response("unknown host\n", { status: 421 });
      const url = new URL(req.url);
      const asset = UI_ASSETS[url.pathname];
      if (asset && req.method === "GET")
        return new Response(asset.body, { headers: { "content-type": asset.type, ...SECURITY_HEADERS } });
      if (url.pathname === "/api/cluster" && req.method === "GET") {
        try {
          return json(200, { ...(await clusterView(o.source)), explain: o.explain !== undefined });
        } catch (e) {
          return failure(500, e);
        }
      }
      if (url.pathname === "/api/matrix" && req.method === "POST") {
        if (!o.source.lab)
          return json(400, { code: "ui-no-lab", message: "a matrix needs a lab (tartan ui --lab NAME)" });
        try {
          saveLastMatrix(o.source.lab, await labMatrix(o.source.lab, 1500));
          return json(200, await clusterView(o.source));
        } catch (e) {
          return failure(500, e);
        }
      }
      if (url.pathname === "/api/explain" && req.method === "GET") {
        const src = url.searchParams.get("src");
        const dst = url.searchParams.get("dst");
        if (!src || !dst) return json(400, { code: "ui-bad-request", message: "src and dst are required" });
        if (!o.explain) return json(501, { code: "ui-no-explain", message: "this build has no explain" });
        try {
          return json(
            200,
            await o.explain(src, dst, url.searchParams.get("port") ?? undefined, o.source.lab),
          );
        } catch (e) {
          return failure(e instanceof TartanError ? 400 : 500, e);
        }
      }
      if (url.pathname === "/api/events" && req.method === "GET") {
        let unsubscribe = () => {};
        let keepalive: ReturnType<typeof setInterval> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            const send = (item: FeedItem) =>
              controller.enqueue(enc.encode(`event: ${item.type}\ndata: ${JSON.stringify(item)}\n\n`));
            for (const a of feed.agentState.values()) send(a);
            for (const r of feed.recent) send({ type: "drop", record: r });
            unsubscribe = feed.subscribe(send);
            keepalive = setInterval(() => controller.enqueue(enc.encode(": keepalive\n\n")), KEEPALIVE_MS);
          },
          cancel() {
            unsubscribe();
            clearInterval(keepalive);
          },
        });
        return new Response(body, {
          headers: { "content-type": "text/event-stream", ...SECURITY_HEADERS },
        });
      }
      return new Response("not found\n", { status: 404 });
    },
  });
  const shownHost = o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname;
  return {
    url: `http://${shownHost}:${server.port}/`,
    stop: async () => {
      feed.close();
      await server.stop(true);
    },
  };
}
