// A second SIGTERM during shutdown must not kill the process (the lab signals a process and its
// group back to back; with process.once the second one hit the restored default action). A
// second SIGINT is a user's ^C twice: exit 130 at once.
import { describe, expect, test } from "bun:test";

const CHILD = `${import.meta.dir}/../fixtures/stop-on-signal.ts`;

async function signalTwice(first: NodeJS.Signals, second: NodeJS.Signals) {
  const child = Bun.spawn([process.execPath, CHILD], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  process.kill(child.pid, first);
  // The first signal has been handled (its handler ran) before the second one is sent.
  while (!out.includes("stopping")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  process.kill(child.pid, second);
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  return { code: await child.exited, signal: child.signalCode, out };
}

describe("stopSignal", () => {
  test("a second SIGTERM mid-shutdown is ignored: the shutdown finishes, exit 0", async () => {
    const r = await signalTwice("SIGTERM", "SIGTERM");
    expect(r).toEqual({ code: 0, signal: null, out: "ready\nstopping SIGTERM\nstopped\n" });
  });
  test("SIGINT then SIGTERM: the shutdown finishes", async () => {
    const r = await signalTwice("SIGINT", "SIGTERM");
    expect(r).toEqual({ code: 0, signal: null, out: "ready\nstopping SIGINT\nstopped\n" });
  });
  test("a second SIGINT exits at once with 130", async () => {
    const r = await signalTwice("SIGTERM", "SIGINT");
    expect(r).toEqual({ code: 130, signal: null, out: "ready\nstopping SIGTERM\n" });
  });
});
