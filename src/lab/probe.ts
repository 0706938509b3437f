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

async function probeHttp(url: string, timeoutMs: number): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.text()).trim();
  if (!res.ok) throw new TartanError("lab-probe", `GET ${url}: HTTP ${res.status} ${body.slice(0, 200)}`);
  return body;
}

/**
 * `tartan lab probe tcp HOST PORT` / `tartan lab probe http URL`, run inside a lab namespace by
 * the matrix and by `lab up` (etcd health): connects from there and returns what the other side
 * said. Our own code rather than nc/curl: the same behaviour on every machine, no extra package.
 */
export async function runProbe(args: string[], timeoutMs: number): Promise<string> {
  const [kind, a, b] = args;
  if (kind === "tcp" && a && b && /^\d+$/.test(b)) return await probeTcp(a, Number(b), timeoutMs);
  if (kind === "http" && a) return await probeHttp(a, timeoutMs);
  throw new TartanError("cli-usage", "usage: tartan lab probe tcp HOST PORT | http URL [--timeout-ms N]");
}
