import * as http2 from "node:http2";
import { isIP } from "node:net";
import { GRPC, GrpcError } from "./grpc-error.ts";
import { GrpcMessageReader, grpcFrame } from "./grpc-message-reader.ts";

/** PEM contents for a TLS connection: the CA that signed the server's certificate, our own. */
export interface GrpcTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** An open bidirectional stream (etcd's Watch). */
export interface GrpcStream {
  write(message: Uint8Array): void;
  /** Ends the stream from our side (a cancel); no onEnd follows. */
  close(): void;
}

export interface GrpcStreamHandlers {
  onMessage(message: Uint8Array): void;
  /** The stream ended: with a GrpcError, or undefined for status OK. Called once. */
  onEnd(error: GrpcError | undefined): void;
}

type Metadata = Record<string, string>;

/** What a stream's response headers or trailers say: the gRPC status, if they carry one. */
function statusOf(h: http2.IncomingHttpHeaders): GrpcError | null | undefined {
  const s = h["grpc-status"];
  if (s === undefined) return undefined;
  const code = Number(s);
  if (code === 0) return null;
  const raw = h["grpc-message"];
  let details = typeof raw === "string" ? raw : `status ${code}`;
  try {
    details = decodeURIComponent(details);
  } catch {}
  return new GrpcError(code, details);
}

/**
 * Calls `set` with the gRPC status (null for OK) when the response headers (a trailers-only
 * answer: an error before any message) or the trailers carry one.
 */
function onStatus(stream: http2.ClientHttp2Stream, set: (s: GrpcError | null) => void): void {
  const read = (h: http2.IncomingHttpHeaders) => {
    const s = statusOf(h);
    if (s !== undefined) set(s);
  };
  stream.on("response", read);
  stream.on("trailers", read);
}

/**
 * gRPC over one HTTP/2 connection (node:http2, as @grpc/grpc-js uses it) to the first endpoint
 * that answers: unary calls with a deadline, and bidirectional streams. Connects on first use;
 * a broken connection is dropped and the next call connects again, to the next endpoint. No
 * retries here: callers decide (the agent keeps working from what it has, the watch resumes).
 * An open connection keeps the process alive until close(), as etcd3's did: an agent shutting
 * down awaits things (servers stopping, the last apply) that do not hold the event loop
 * themselves, and must not be cut off in the middle by an empty loop.
 */
export class GrpcConnection {
  private session: http2.ClientHttp2Session | undefined;
  private endpointIndex = 0;
  private lastError: Error | undefined;
  private closed = false;
  private readonly connected = new WeakSet<http2.ClientHttp2Session>();

  constructor(
    private readonly endpoints: readonly string[],
    private readonly tls?: GrpcTls,
  ) {}

  /** One request, one answer; DEADLINE_EXCEEDED after `timeoutMs`, UNAVAILABLE if nobody answers. */
  unary(path: string, request: Uint8Array, timeoutMs: number, metadata: Metadata = {}): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let answer: Uint8Array | undefined;
      let status: GrpcError | null | undefined;
      let done = false;
      const reader = new GrpcMessageReader();
      let stream: http2.ClientHttp2Stream;
      const finish = (e?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (e) {
          if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
          reject(e);
        } else if (status) reject(status);
        else if (status === null && answer) resolve(answer);
        else reject(this.noStatus(status === null ? "etcd answered without a message" : undefined));
      };
      const timer = setTimeout(() => {
        // A connection still not made by the deadline (a host that drops packets) is given up,
        // so the next call tries the next endpoint instead of waiting on the kernel's timeout.
        this.abandonUnconnected();
        finish(new GrpcError(GRPC.deadlineExceeded, `no answer within ${timeoutMs} ms${this.seen()}`));
      }, timeoutMs);
      try {
        stream = this.request(path, metadata);
      } catch (e) {
        clearTimeout(timer);
        reject(this.unavailable(e));
        return;
      }
      onStatus(stream, (s) => {
        status = s;
      });
      stream.on("data", (chunk: Uint8Array) => {
        try {
          reader.push(chunk, (m) => {
            answer ??= m;
          });
        } catch (e) {
          finish(e as Error);
        }
      });
      stream.on("error", (e) => finish(this.unavailable(e)));
      stream.on("close", () => finish());
      stream.end(grpcFrame(request));
    });
  }

  /** Opens a bidirectional stream; messages and the end come through `handlers`. */
  stream(path: string, handlers: GrpcStreamHandlers, metadata: Metadata = {}): GrpcStream {
    let ended = false;
    let status: GrpcError | null | undefined;
    const reader = new GrpcMessageReader();
    const end = (e: GrpcError | undefined) => {
      if (ended) return;
      ended = true;
      handlers.onEnd(e);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = this.request(path, metadata);
    } catch (e) {
      const err = this.unavailable(e);
      queueMicrotask(() => handlers.onEnd(err));
      return { write() {}, close() {} };
    }
    onStatus(stream, (s) => {
      status = s;
    });
    stream.on("data", (chunk: Uint8Array) => {
      if (ended) return;
      try {
        reader.push(chunk, (m) => {
          if (!ended) handlers.onMessage(m);
        });
      } catch (e) {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        end(e as GrpcError);
      }
    });
    stream.on("error", (e) => end(this.unavailable(e)));
    stream.on("close", () => end(status === null ? undefined : (status ?? this.noStatus(undefined))));
    return {
      write: (m) => {
        if (!ended) stream.write(grpcFrame(m));
      },
      close: () => {
        if (ended) return;
        ended = true;
        if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
  }

  private request(path: string, metadata: Metadata): http2.ClientHttp2Stream {
    if (this.closed) throw new Error("the etcd client was closed");
    return this.connect().request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...metadata,
    });
  }

  private connect(): http2.ClientHttp2Session {
    const live = this.session;
    if (live && !live.closed && !live.destroyed) return live;
    const endpoint = this.endpoints[this.endpointIndex % this.endpoints.length]!;
    const url = new URL(endpoint);
    const opts: http2.SecureClientSessionOptions = {};
    if (url.protocol === "https:") {
      if (this.tls) {
        opts.ca = this.tls.ca;
        if (this.tls.cert) opts.cert = this.tls.cert;
        if (this.tls.key) opts.key = this.tls.key;
      }
      // No SNI for an IP address (RFC 6066; Bun refuses it): the certificate is still checked
      // against the IP (decision 0013).
      if (isIP(url.hostname.replace(/^\[|\]$/g, ""))) opts.servername = "";
    }
    const session = http2.connect(url.origin, opts);
    const drop = (e?: Error) => {
      if (e) this.lastError = e;
      if (this.session !== session) return;
      this.session = undefined;
      // The next connection tries the next endpoint.
      this.endpointIndex++;
    };
    session.on("connect", () => {
      this.connected.add(session);
      this.lastError = undefined;
    });
    session.on("error", (e) => drop(e));
    session.on("goaway", () => drop());
    session.on("close", () => drop());
    this.session = session;
    return session;
  }

  private abandonUnconnected(): void {
    const s = this.session;
    if (!s || this.connected.has(s)) return;
    this.lastError ??= new Error("the connection was not established before the deadline");
    s.destroy();
  }

  private unavailable(e: unknown): GrpcError {
    if (e instanceof GrpcError) return e;
    const err = e instanceof Error ? e : new Error(String(e));
    if (!/ERR_HTTP2_STREAM_CANCEL|ERR_HTTP2_STREAM_ERROR/.test(String((err as { code?: string }).code))) {
      this.lastError = err;
    }
    return new GrpcError(GRPC.unavailable, `no connection${this.seen()}`, { cause: err });
  }

  private noStatus(why: string | undefined): GrpcError {
    return new GrpcError(
      GRPC.unavailable,
      `${why ?? "the stream ended without a gRPC status"}${this.seen()}`,
    );
  }

  /** The last connection failure, for messages (": connect ECONNREFUSED 127.0.0.1:2379"). */
  private seen(): string {
    const e = this.lastError as (Error & { code?: string }) | undefined;
    if (!e) return "";
    const code = e.code && !e.message.includes(e.code) ? ` (${e.code})` : "";
    return `; last error: ${e.message}${code}`;
  }
}
