// A long-lived helper process in a namespace (a prober), fed lines on stdin, answering lines on
// stdout; tracked for cleanup, stopped by its PID.
import { stopProcess, trackProcess } from "../lab/cleanup.ts";

/** A long-lived helper process in a namespace, fed lines on stdin, answering lines on stdout. */
export class LineProcess {
  private readonly p: ReturnType<typeof Bun.spawn>;
  private readonly lines: string[] = [];
  private waiters: ((l: string) => void)[] = [];
  constructor(argv: string[]) {
    this.p = Bun.spawn(argv, { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    trackProcess(this.p);
    void this.read();
  }
  private async read(): Promise<void> {
    let buf = "";
    const dec = new TextDecoder();
    for await (const chunk of this.p.stdout as ReadableStream<Uint8Array>) {
      buf += dec.decode(chunk);
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    }
  }
  send(line: string): void {
    const sink = this.p.stdin as import("bun").FileSink;
    sink.write(`${line}\n`);
    sink.flush();
  }
  next(): Promise<string> {
    const l = this.lines.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => this.waiters.push(r));
  }
  stop(): Promise<void> {
    return stopProcess(this.p.pid);
  }
}
