// A real etcd for tests: free 127.0.0.1 ports, a temp data dir, started detached (so a test can
// stop it and start it again on the same data for outage tests), stopped by its PID. It refuses
// to run in the host's root network namespace: tests serve only inside a namespace the test run
// created (scripts/test.sh runs test/integration inside one), so nothing is ever exposed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "../../src/exec/run.ts";
import { eventually, GiveUp } from "./eventually.ts";
import { processAlive, stopProcess } from "./stop-process.ts";

export interface EtcdServer {
  /** The client URL, http://127.0.0.1:PORT (https:// with TLS). */
  endpoint: string;
  dataDir: string;
  /** PID of the running etcd (undefined while stopped). */
  pid(): number | undefined;
  /** SIGTERM, then SIGKILL after 5 s; waits until the process is gone. */
  stop(): Promise<void>;
  /** Starts again on the same data dir and ports (after stop). */
  start(): Promise<void>;
  /** Stops it and removes its data dir. */
  cleanup(): Promise<void>;
  log(): string;
}

function netnsSkipReason(): string | undefined {
  const rootNs =
    "runs in the root network namespace; etcd tests run only inside a private one (scripts/test.sh integration)";
  const self = statSync("/proc/self/ns/net").ino;
  try {
    return readlinkSync("/proc/1/ns/net") === readlinkSync("/proc/self/ns/net") ? rootNs : undefined;
  } catch {
    // PID 1 may be out of reach (a container without ptrace rights on it). Then ask for positive
    // proof instead: this process must be inside a tt-t-* namespace that a test run created.
    let names: string[] = [];
    try {
      names = readdirSync("/run/netns").filter((n) => n.startsWith("tt-t-"));
    } catch {}
    const inside = names.some((n) => {
      try {
        return statSync(`/run/netns/${n}`).ino === self;
      } catch {
        return false;
      }
    });
    return inside ? undefined : `${rootNs} (or one this test run did not create)`;
  }
}

function binarySkipReason(): string | undefined {
  return ["/usr/bin/etcd", "/usr/local/bin/etcd"].some(existsSync)
    ? undefined
    : "etcd is not installed (Debian package etcd-server)";
}

/** Why etcd tests must not run here, or undefined when they may. */
export const etcdSkipReason: string | undefined = netnsSkipReason() ?? binarySkipReason();

const running = new Map<number, string>();
const dataDirs = new Set<string>();

/** A port the kernel says is free now (bound and released at once; inside our private netns). */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

export interface EtcdStartOptions {
  /**
   * Serve clients over TLS with these files (etcd's --trusted-ca-file, --cert-file, --key-file),
   * and with `clientCertAuth` require a client certificate of that CA. Health is then read on a
   * plain metrics listener on 127.0.0.1 (the private netns's loopback).
   */
  tls?: { caFile: string; certFile: string; keyFile: string; clientCertAuth: boolean };
  /** More etcd flags (e.g. "--auth-token-ttl=1"). */
  extraArgs?: string[];
}

export async function startEtcd(opts: EtcdStartOptions = {}): Promise<EtcdServer> {
  if (etcdSkipReason) throw new Error(`startEtcd refused: ${etcdSkipReason}`);
  const dataDir = mkdtempSync(join(tmpdir(), "tt-t-etcd-"));
  dataDirs.add(dataDir);
  const clientPort = freePort();
  const peerPort = freePort();
  const endpoint = `${opts.tls ? "https" : "http"}://127.0.0.1:${clientPort}`;
  const healthUrl = opts.tls ? `http://127.0.0.1:${freePort()}` : endpoint;
  const tlsArgs = opts.tls
    ? [
        // etcd 3.4 requires client certificates whenever it has a --trusted-ca-file.
        ...(opts.tls.clientCertAuth ? ["--client-cert-auth", `--trusted-ca-file=${opts.tls.caFile}`] : []),
        `--cert-file=${opts.tls.certFile}`,
        `--key-file=${opts.tls.keyFile}`,
        `--listen-metrics-urls=${healthUrl}`,
      ]
    : [];
  const peer = `http://127.0.0.1:${peerPort}`;
  const logFile = join(dataDir, "etcd.log");
  const pidFile = join(dataDir, "etcd.pid");
  let pid: number | undefined;

  const start = async () => {
    // start-stop-daemon detaches etcd (own session, output to a file) and writes its PID, so the
    // one spawning path (run) can start a long-lived server without holding its pipes.
    await run([
      "start-stop-daemon",
      "--start",
      "--background",
      "--make-pidfile",
      "--pidfile",
      pidFile,
      "--output",
      logFile,
      "--exec",
      "/usr/bin/etcd",
      "--",
      "--name",
      "default",
      "--data-dir",
      join(dataDir, "data"),
      "--listen-client-urls",
      endpoint,
      "--advertise-client-urls",
      endpoint,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `default=${peer}`,
      // Progress notifications every second: the stand-in API server's watch BOOKMARKs carry the
      // revision etcd confirms delivered (test/harness/kube-apiserver.ts).
      "--experimental-watch-progress-notify-interval=1s",
      ...tlsArgs,
      ...(opts.extraArgs ?? []),
    ]);
    await eventually(
      "etcd's pid file",
      () => existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "",
      {
        timeoutMs: 2000,
        onTimeout: "last",
      },
    );
    pid = Number(readFileSync(pidFile, "utf8").trim());
    running.set(pid, dataDir);
    try {
      await eventually(
        "etcd healthy",
        async () => {
          if (!processAlive(pid!)) throw new GiveUp("etcd exited at start-up");
          const r = await fetch(`${healthUrl}/health`, { signal: AbortSignal.timeout(500) });
          return ((await r.json()) as { health?: string }).health === "true";
        },
        { timeoutMs: 15_000 },
      );
    } catch (e) {
      throw new Error(`${(e as Error).message}:\n${readLog()}`);
    }
  };

  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-3000) : "");

  const stop = async () => {
    if (pid === undefined) return;
    const p = pid;
    pid = undefined;
    await stopProcess(p, 5000);
    running.delete(p);
  };

  try {
    await start();
  } catch (e) {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
    throw e;
  }
  return {
    endpoint,
    dataDir,
    pid: () => pid,
    stop,
    start: async () => {
      if (pid === undefined) await start();
    },
    cleanup: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
      dataDirs.delete(dataDir);
    },
    log: readLog,
  };
}

process.on("exit", () => {
  // Last resort for a run that dies before its cleanup: kill what is left and drop its data.
  for (const pid of running.keys()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});
