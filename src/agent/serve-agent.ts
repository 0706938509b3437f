import { chmodSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { AgentClient } from "../api/agent-client.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { AGENT_HEALTH_PATH } from "../model/agent-api.ts";

export interface Listener {
  stop(): Promise<void>;
}

/**
 * Serves the local API on a unix socket only root can use: the directory is created 0700, the
 * socket is created under umask 077 (no window where it is open to others) and set 0600. A
 * socket file left by a dead agent is removed; one that still answers means another agent runs.
 */
export async function serveUnixSocket(
  path: string,
  fetch: (req: Request) => Promise<Response>,
): Promise<Listener> {
  mkdirSync(path.slice(0, path.lastIndexOf("/")) || "/", { recursive: true, mode: 0o700 });
  if (existsSync(path)) {
    // Any answer, even 503 before its first sync, means another agent owns the socket; only
    // "nobody answers" (a stale socket file from a crash) lets this one take it over.
    const alive = await new AgentClient(path)
      .request({ method: "GET", path: AGENT_HEALTH_PATH, timeoutMs: 1000, doing: "probing the socket" })
      .then(
        () => true,
        (e) => !(e instanceof TartanError && e.code === "agent-unreachable"),
      );
    if (alive) {
      throw new TartanError(
        "agent-already-running",
        `another agent answers on ${path}`,
        "stop it first, or give this agent another `socket`",
      );
    }
    rmSync(path, { force: true });
  }
  const old = process.umask(0o077);
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({ unix: path, fetch });
  } finally {
    process.umask(old);
  }
  chmodSync(path, 0o600);
  return {
    stop: async () => {
      await server.stop(true);
      rmSync(path, { force: true });
    },
  };
}

/** Serves metrics on host:port ("127.0.0.1:9641", "[::1]:9641"). */
export function serveTcp(address: string, fetch: (req: Request) => Response): Listener {
  const colon = address.lastIndexOf(":");
  const hostname = address.slice(0, colon).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(colon + 1));
  const server = Bun.serve({ hostname, port, fetch });
  return { stop: async () => void (await server.stop(true)) };
}
