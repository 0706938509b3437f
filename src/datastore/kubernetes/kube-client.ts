import { TartanError } from "../../errors/tartan-error.ts";
import { datastoreError } from "../datastore-error.ts";
import type { KubeConnection } from "./kube-connection.ts";
import { KubeStatusError, kubeStatusError } from "./kube-status-error.ts";
import { WatchLineSplitter } from "./watch-line-splitter.ts";

export interface KubeClientOptions {
  conn: KubeConnection;
  /** Deadline of one request (watches exempt), default 10 s. */
  timeoutMs?: number;
  /** Injected by tests. */
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  contentType?: string;
  /** For messages: "create IPAMBlock/x". */
  what: string;
}

/** One line of a watch stream. */
export interface RawWatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: Record<string, unknown>;
}

/** Words of Bun's (BoringSSL's) fetch errors that mean the TLS handshake was refused. */
const TLS_FAILURE =
  /CERT|certificate|SSL|TLS|self[- ]signed|UNABLE_TO_VERIFY|unable to verify|altname|HANDSHAKE|issuer/i;

/**
 * A thin Kubernetes API client over Bun's fetch (decision 0015): JSON requests with the
 * connection's TLS (CA, client certificate) and bearer token, typed Status errors, and watch
 * streams decoded line by line. A 401 re-reads the token once; 429 and 503 are retried after
 * Retry-After (at most twice). Everything else is the caller's to judge.
 */
export class KubeClient {
  private readonly f: typeof fetch;
  readonly timeoutMs: number;

  constructor(private readonly o: KubeClientOptions) {
    this.f = o.fetch ?? fetch;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  get server(): string {
    return this.o.conn.server;
  }

  /** A JSON request; resolves with the parsed answer, rejects with KubeStatusError or a datastore TartanError. */
  async request<T>(method: string, path: string, r: RequestOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, path, r, AbortSignal.timeout(this.timeoutMs));
      const text = await res.text().catch((e) => {
        throw this.transportError(r.what, e);
      });
      if (res.ok) {
        try {
          return (text ? JSON.parse(text) : {}) as T;
        } catch {
          throw datastoreError(
            "datastore-unavailable",
            `${r.what}: the API server's answer is not JSON: ${text.slice(0, 120)}`,
          );
        }
      }
      const err = kubeStatusError(res.status, text, r.what, res.headers.get("retry-after"));
      if (res.status === 401 && attempt === 0) {
        this.o.conn.refreshToken();
        continue;
      }
      if ((res.status === 429 || res.status === 503) && attempt < 2) {
        await Bun.sleep(Math.min(5, err.retryAfterSeconds ?? 1) * 1000);
        continue;
      }
      throw err;
    }
  }

  /**
   * Opens a watch and yields its events until the stream ends (return) or breaks (throw). A
   * non-2xx answer throws its KubeStatusError (a 410 means: the resourceVersion is gone).
   */
  async *watch(
    path: string,
    query: Record<string, string | undefined>,
    signal: AbortSignal,
  ): AsyncGenerator<RawWatchEvent> {
    const what = `watch ${path}`;
    let res = await this.send("GET", path, { query: { ...query, watch: "1" }, what }, signal);
    if (res.status === 401) {
      this.o.conn.refreshToken();
      res = await this.send("GET", path, { query: { ...query, watch: "1" }, what }, signal);
    }
    if (!res.ok)
      throw kubeStatusError(
        res.status,
        await res.text().catch(() => ""),
        what,
        res.headers.get("retry-after"),
      );
    if (!res.body) return;
    const reader = res.body.getReader();
    const lines = new WatchLineSplitter();
    const parse = (l: string): RawWatchEvent => {
      try {
        return JSON.parse(l) as RawWatchEvent;
      } catch {
        throw datastoreError(
          "datastore-unavailable",
          `${what}: a watch line is not JSON: ${l.slice(0, 120)}`,
        );
      }
    };
    try {
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = await reader.read();
        } catch (e) {
          if (signal.aborted) return;
          throw this.transportError(what, e);
        }
        if (chunk.done) break;
        for (const l of lines.push(chunk.value ?? new Uint8Array())) yield parse(l);
      }
      for (const l of lines.end()) yield parse(l);
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  private async send(
    method: string,
    path: string,
    r: RequestOptions,
    signal: AbortSignal,
  ): Promise<Response> {
    const url = new URL(this.o.conn.server + path);
    for (const [k, v] of Object.entries(r.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = this.o.conn.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (r.body !== undefined) headers["Content-Type"] = r.contentType ?? "application/json";
    const tls = this.o.conn.tls;
    try {
      return await this.f(url, {
        method,
        headers,
        body: r.body === undefined ? undefined : JSON.stringify(r.body),
        signal,
        // Bun's fetch takes the CA and client certificate directly (an https.Agent is ignored:
        // the reason tartan does not use @kubernetes/client-node, decision 0015).
        ...(url.protocol === "https:" ? { tls: { ...tls, rejectUnauthorized: true } } : {}),
      } as RequestInit);
    } catch (e) {
      throw this.transportError(r.what, e);
    }
  }

  private transportError(what: string, e: unknown): TartanError {
    if (e instanceof TartanError) return e;
    const msg = e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e);
    if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
      return datastoreError(
        "datastore-unavailable",
        `the API server ${this.server}: no answer in time; ${what} failed`,
        e,
      );
    }
    if (TLS_FAILURE.test(msg)) {
      return new TartanError(
        "datastore-tls",
        `the API server ${this.server}: TLS failed (${msg}); ${what} failed`,
        `check the CA of ${this.o.conn.source} (certificate-authority) and that the server's certificate names ${new URL(this.server).hostname}`,
        { cause: e },
      );
    }
    return new TartanError(
      "datastore-unavailable",
      `the API server ${this.server} is unreachable (${msg}); ${what} failed`,
      `is the API server up and reachable from this node? (${this.o.conn.source}; in a pod: KUBERNETES_SERVICE_HOST/PORT)`,
      { cause: e },
    );
  }
}

export { KubeStatusError };
