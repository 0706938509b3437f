import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { TartanError } from "../errors/tartan-error.ts";

function probeTcp(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = "";
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new TartanError("lab-probe", `tcp ${host}:${port}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("data", (d) => {
      data += d;
    });
    sock.on("end", () => {
      clearTimeout(timer);
      resolve(data.trim());
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(new TartanError("lab-probe", `tcp ${host}:${port}: ${e.message}`));
    });
  });
}

/** One datagram to HOST:PORT; the answer is the first datagram back (the responder's banner). */
function probeUdp(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createSocket(host.includes(":") ? "udp6" : "udp4");
    const done = (f: () => void) => {
      clearTimeout(timer);
      sock.close();
      f();
    };
    const timer = setTimeout(
      () =>
        done(() =>
          reject(new TartanError("lab-probe", `udp ${host}:${port}: no answer within ${timeoutMs} ms`)),
        ),
      timeoutMs,
    );
    sock.on("message", (msg) => done(() => resolve(msg.toString("utf8").trim())));
    sock.on("error", (e) =>
      done(() => reject(new TartanError("lab-probe", `udp ${host}:${port}: ${e.message}`))),
    );
    sock.send("probe\n", port, host);
  });
}

async function probeHttp(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.text()).trim();
  if (!res.ok) throw new TartanError("lab-probe", `GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return body;
}

/**
 * `tartan lab probe tcp|udp HOST PORT` / `tartan lab probe http URL`, run inside a lab namespace
 * by the matrix and by `lab up` (etcd health): connects from there and returns what the other
 * side said. Our own code rather than nc/curl: the same behaviour on every machine, no extra
 * package. `HOST,HOST,…` probes them all at once (one process for a whole row of a matrix) and
 * returns one JSON line per host: {"host", "answer"} or {"host", "error"}.
 */
export async function runProbe(args: string[], timeoutMs: number): Promise<string> {
  const [kind, a, b] = args;
  if ((kind === "tcp" || kind === "udp") && a && b && /^\d+$/.test(b)) {
    const one = (host: string) =>
      kind === "tcp" ? probeTcp(host, Number(b), timeoutMs) : probeUdp(host, Number(b), timeoutMs);
    if (!a.includes(",")) return await one(a);
    const rows = await Promise.all(
      a.split(",").map((host) =>
        one(host).then(
          (answer) => JSON.stringify({ host, answer }),
          (e: Error) => JSON.stringify({ host, error: e.message }),
        ),
      ),
    );
    return rows.join("\n");
  }
  if (kind === "http" && a) return await probeHttp(a, timeoutMs);
  throw new TartanError(
    "cli-usage",
    "usage: tartan lab probe tcp|udp HOST[,HOST…] PORT | http URL [--timeout-ms N]",
  );
}
