// Runs inside a pod's network namespace (started by bench/convergence.ts with `ip netns exec`).
// For each line "IP PORT TIMEOUT_MS" on stdin it opens TCP connections to IP:PORT in a tight loop,
// each given a few milliseconds, until one gets an answer from the target's kernel: a connection
// (something listens) or ECONNREFUSED (a RST: the pod's own kernel answered, both directions
// work). A dropped SYN (no route yet, blackhole, pod not wired) is a timeout and is retried.
// Prints one JSON line per target: {ip, ok, at (epoch ms of the answer), attempts}.
import { connect } from "node:net";

const ATTEMPT_MS = 10;
const now = () => performance.timeOrigin + performance.now();

function attempt(ip: string, port: number): Promise<"answered" | "silent"> {
  return new Promise((resolve) => {
    const s = connect({ host: ip, port });
    const done = (r: "answered" | "silent") => {
      clearTimeout(t);
      s.destroy();
      resolve(r);
    };
    const t = setTimeout(() => done("silent"), ATTEMPT_MS);
    s.once("connect", () => done("answered"));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED" ? "answered" : "silent"));
  });
}

async function probe(ip: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = now() + timeoutMs;
  let attempts = 0;
  while (now() < deadline) {
    attempts++;
    const started = now();
    if ((await attempt(ip, port)) === "answered") {
      console.log(JSON.stringify({ ip, ok: true, at: now(), attempts }));
      return;
    }
    // An immediate failure other than a RST (e.g. no route: EHOSTUNREACH) must not spin the CPU.
    const spent = now() - started;
    if (spent < 2) await Bun.sleep(2 - spent);
  }
  console.log(JSON.stringify({ ip, ok: false, at: now(), attempts }));
}

let buf = "";
for await (const chunk of Bun.stdin.stream()) {
  buf += new TextDecoder().decode(chunk);
  let nl = buf.indexOf("\n");
  while (nl >= 0) {
    const line = buf.slice(0, nl).trim();
    buf = buf.slice(nl + 1);
    nl = buf.indexOf("\n");
    if (!line) continue;
    const [ip, port, timeout] = line.split(/\s+/);
    await probe(ip!, Number(port), Number(timeout));
  }
}
