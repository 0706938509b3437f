import { TartanError } from "../errors/tartan-error.ts";
import { agentUnreachableHint } from "./agent-client.ts";

/** The connection and the first line must come within this; after that a stream may be quiet. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Follows a JSON-lines stream of the agent's socket API (GET `path`, e.g. /v1/drops?follow=1):
 * calls `onLine` with each parsed non-empty line until the agent ends the stream, `signal`
 * aborts, or onLine returns false. Connecting fails with `agent-unreachable` (bounded).
 */
export async function followAgent(
  socket: string,
  path: string,
  onLine: (value: unknown) => boolean | undefined,
  signal?: AbortSignal,
): Promise<void> {
  const connect = new AbortController();
  const timer = setTimeout(() => connect.abort(), CONNECT_TIMEOUT_MS);
  const onAbort = () => connect.abort();
  signal?.addEventListener("abort", onAbort);
  let res: Response;
  try {
    res = await fetch(`http://tartan-agent${path}`, { unix: socket, signal: connect.signal });
  } catch (e) {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    if (signal?.aborted) return;
    throw new TartanError(
      "agent-unreachable",
      `following ${path}: the tartan agent does not answer at ${socket}: ${(e as Error).message}`,
      agentUnreachableHint(socket),
      { cause: e },
    );
  }
  clearTimeout(timer);
  if (!res.ok || !res.body) {
    signal?.removeEventListener("abort", onAbort);
    throw new TartanError(
      "agent-error",
      `following ${path}: the tartan agent at ${socket} answered ${res.status}: ${(await res.text()).slice(0, 200)}`,
      "the agent and this command may be different tartan versions: `tartan version` on both",
    );
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let nl = buf.indexOf("\n");
      while (nl >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== "" && onLine(JSON.parse(line)) === false) return;
        nl = buf.indexOf("\n");
      }
    }
  } catch (e) {
    if (signal?.aborted) return;
    throw e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.cancel().catch(() => {});
  }
}
