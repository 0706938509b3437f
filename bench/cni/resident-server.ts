// The long-running side of the resident process model measured by bench/cni-resident.ts: runs the
// plugin's own code (runCni with the real netlink, SQLite and nft drivers) for each request the
// forwarding shim sends, one at a time, warm. Started by the bench inside its host namespace
// (`ip netns exec HOST bun bench/cni/resident-server.ts SOCKET`); SIGTERM stops it.
//
// A config with "residentDeferDelete": true has DEL answer before the host veth is deleted: the
// kernel's veth deletion (~15–20 ms, synchronous in the reference plugin too) then runs after the
// answer, on this process's thread, before the next request is served. A real design would have to
// make an ADD that reuses the same host veth name wait for it; the bench's container ids never repeat.
import { rmSync } from "node:fs";
import { runCni } from "../../src/cni/run-cni.ts";
import { cniDeps } from "../../src/cni-wiring.ts";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { KernelOp } from "../../src/dataplane/kernel-op.ts";
import type { NetlinkDataplane } from "../../src/dataplane/linux/netlink-dataplane.ts";
import { stopSignal } from "../../src/exec/stop-signal.ts";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("usage: resident-server.ts SOCKET\n");
  process.exit(2);
}

interface Request {
  env?: Record<string, string>;
  stdin?: string;
  stats?: boolean;
}

/** Time spent in runCni per verb (and per mode for DEL), and in deferred deletions. */
const work: Record<string, number[]> = {};
function note(key: string, ms: number): void {
  work[key] ??= [];
  work[key].push(ms);
}
let deferred: (() => Promise<unknown>)[] = [];

async function serve(req: Request): Promise<string> {
  if (req.stats) return JSON.stringify(work);
  const env = req.env ?? {};
  const conf = JSON.parse(req.stdin ?? "{}") as Record<string, unknown>;
  const defer = conf.residentDeferDelete === true;
  delete conf.residentSocket;
  delete conf.residentDeferDelete;
  const deps = cniDeps(env, "cni");
  if (defer && env.CNI_COMMAND === "DEL") {
    const dp = deps.dataplane as NetlinkDataplane;
    deps.dataplane = new Proxy(dp, {
      get(target, p) {
        if (p === "apply") {
          return async (netns: NetnsRef, ops: readonly KernelOp[]) => {
            if (netns === null && ops.every((o) => o.op === "link-del")) {
              deferred.push(() => dp.apply(null, ops));
              return;
            }
            return dp.apply(netns, ops);
          };
        }
        const v = Reflect.get(target, p, target);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
  }
  const t0 = performance.now();
  const out = await runCni(deps, env, JSON.stringify(conf));
  note(
    `${env.CNI_COMMAND}${defer && env.CNI_COMMAND === "DEL" ? " (deferred)" : ""}`,
    performance.now() - t0,
  );
  return JSON.stringify({ stdout: out.stdout, exitCode: out.exitCode });
}

async function drainDeferred(): Promise<void> {
  const jobs = deferred;
  deferred = [];
  for (const job of jobs) {
    const t0 = performance.now();
    await job().catch((e) => process.stderr.write(`resident-server: deferred delete: ${e}\n`));
    note("deferred veth deletion", performance.now() - t0);
  }
}

// One request at a time, as a lock in the agent would serialize them.
let queue: Promise<unknown> = Promise.resolve();
rmSync(socketPath, { force: true });
const listener = Bun.listen<{ buf: string }>({
  unix: socketPath,
  socket: {
    open(s) {
      s.data = { buf: "" };
    },
    data(s, d) {
      s.data.buf += Buffer.from(d).toString("utf8");
      const nl = s.data.buf.indexOf("\n");
      if (nl < 0) return;
      const line = s.data.buf.slice(0, nl);
      queue = queue.then(async () => {
        let answer: string;
        try {
          answer = await serve(JSON.parse(line) as Request);
        } catch (e) {
          answer = JSON.stringify({ stdout: "", stderr: `resident-server: ${e}\n`, exitCode: 1 });
        }
        s.end(answer);
        await drainDeferred();
      });
    },
  },
});
process.stderr.write(`resident-server: listening on ${socketPath}\n`);
await stopSignal();
listener.stop(true);
rmSync(socketPath, { force: true });
process.exit(0);
