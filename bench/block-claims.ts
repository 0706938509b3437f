// Block-claim conflicts when many nodes start at once (issue 11 point 4): N claimers (one etcd
// client each, as N agents) claim a block of one pool at the same moment against a real etcd,
// with the search starting at the node name's offset (claimStart) and, for comparison, at the
// lowest block (the old order). Counted: lost creates (datastore-conflict, etcd's compare
// failing) and the time until every claimer holds a block.
//
//   npm run bench:block-claims [-- --nodes 100] [--trials 3] [--pool 10.244.0.0/16] [--block-size 26]
//                              [--no-offset | --offset-only] [--json]
//
// Safety: etcd serves on 127.0.0.1 inside a tt-t-* namespace this script creates (it re-runs
// itself there with `ip netns exec`) and removes at the end; etcd is stopped by its PID.
import { cpus, loadavg, release } from "node:os";
import type { Datastore } from "../src/datastore/datastore.ts";
import { EtcdDatastore } from "../src/datastore/etcd/etcd-datastore.ts";
import { TartanError } from "../src/errors/tartan-error.ts";
import { run } from "../src/exec/run.ts";
import { claimBlock } from "../src/ipam/claim-block.ts";
import { KINDS } from "../src/model/cluster-resources.ts";
import { ipPool } from "../test/harness/cluster-objects.ts";
import { etcdSkipReason, startEtcd } from "../test/harness/etcd.ts";
import { createNetns, deleteNetns, isRoot } from "../test/harness/netns.ts";

const argv = process.argv.slice(2);
const opt = (n: string, d: string): string => {
  const i = argv.indexOf(n);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : d;
};
const nodes = Number(opt("--nodes", "100"));
const trials = Number(opt("--trials", "3"));
const poolCidr = opt("--pool", "10.244.0.0/16");
const blockSize = Number(opt("--block-size", "26"));
const modes: ("offset" | "lowest")[] = argv.includes("--no-offset")
  ? ["lowest"]
  : argv.includes("--offset-only")
    ? ["offset"]
    : ["offset", "lowest"];
const log = (m: string) => void process.stderr.write(`block-claims: ${m}\n`);

if (!argv.includes("--inside")) {
  // Outside: make a private namespace and run the measurement in it.
  if (!isRoot) {
    log("needs root (it creates a network namespace for etcd)");
    process.exit(2);
  }
  const ns = await createNetns("bclaim");
  let code = 1;
  try {
    const r = Bun.spawn(
      ["ip", "netns", "exec", ns.name, process.execPath, import.meta.path, "--inside", ...argv],
      {
        stdio: ["inherit", "inherit", "inherit"],
      },
    );
    code = await r.exited;
  } finally {
    await deleteNetns(ns.name);
  }
  process.exit(code);
}

if (etcdSkipReason) {
  log(etcdSkipReason);
  process.exit(2);
}

interface Trial {
  mode: "offset" | "lowest";
  conflicts: number;
  /** Claims cut off by the datastore call deadline (etcd too busy), then retried. */
  deadlines: number;
  ms: number;
  distinct: number;
}

async function trial(endpoint: string, mode: Trial["mode"], t: number): Promise<Trial> {
  const prefix = `/bench-claims-${mode}-${t}`;
  const pool = ipPool("bench", poolCidr, blockSize);
  const clients = Array.from({ length: nodes }, () => new EtcdDatastore({ endpoints: [endpoint], prefix }));
  let conflicts = 0;
  let deadlines = 0;
  try {
    // Connected first, as running agents are, so the claims really start together.
    await Promise.all(clients.map((c) => c.list(KINDS.ipamBlock)));
    const counting = clients.map(
      (c) =>
        new Proxy(c, {
          get(target, p, recv) {
            if (p !== "create") return Reflect.get(target, p, recv);
            return async (o: Parameters<Datastore["create"]>[0]) => {
              try {
                return await target.create(o);
              } catch (e) {
                if (e instanceof TartanError && e.code === "datastore-conflict") conflicts++;
                throw e;
              }
            };
          },
        }) as Datastore,
    );
    const t0 = performance.now();
    // A claim that runs into the call deadline is tried again, as the agent's next trigger would.
    const claim = async (ds: Datastore, node: string) => {
      for (;;) {
        try {
          return await claimBlock(ds, pool, node, { spread: mode === "offset" });
        } catch (e) {
          if (!(e instanceof TartanError && e.code === "datastore-unavailable")) throw e;
          deadlines++;
        }
      }
    };
    const blocks = await Promise.all(counting.map((ds, i) => claim(ds, `node-${i}`)));
    const ms = performance.now() - t0;
    return { mode, conflicts, deadlines, ms, distinct: new Set(blocks.map((b) => b.spec.cidr)).size };
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => {})));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const etcd = await startEtcd();
try {
  const results: Trial[] = [];
  for (let t = 0; t < trials; t++) {
    // Alternate which mode goes first, so neither always meets a warmer etcd.
    for (const mode of t % 2 === 0 ? modes : [...modes].reverse()) {
      const r = await trial(etcd.endpoint, mode, t);
      if (r.distinct !== nodes) throw new Error(`${mode}: ${r.distinct} distinct blocks for ${nodes} nodes`);
      results.push(r);
      log(
        `${mode} trial ${t + 1}/${trials}: ${r.conflicts} conflicts, ${r.deadlines} deadline retries, all claimed in ${r.ms.toFixed(0)} ms`,
      );
    }
  }
  const summary = Object.fromEntries(
    modes.map((m) => {
      const rs = results.filter((r) => r.mode === m);
      return [
        m,
        {
          conflicts: median(rs.map((r) => r.conflicts)),
          deadlines: median(rs.map((r) => r.deadlines)),
          ms: median(rs.map((r) => r.ms)),
        },
      ];
    }),
  );
  if (argv.includes("--json")) {
    process.stdout.write(
      `${JSON.stringify({ nodes, trials, pool: poolCidr, blockSize, summary, results })}\n`,
    );
  } else {
    const k = (await run(["uname", "-r"])).stdout.trim() || release();
    process.stdout.write(
      `block claims: ${nodes} claimers at once, pool ${poolCidr} /${blockSize}, etcd, ${trials} trials (medians); ` +
        `${cpus().length} vCPU ${cpus()[0]?.model ?? ""}, kernel ${k}, load ${loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}\n`,
    );
    process.stdout.write("| start | conflicts | deadline retries | all claimed (ms) |\n|---|---|---|---|\n");
    for (const m of modes) {
      const s = summary[m]!;
      process.stdout.write(
        `| ${m === "offset" ? "node-name offset" : "lowest block"} | ${s.conflicts} | ${s.deadlines} | ${s.ms.toFixed(0)} |\n`,
      );
    }
    if (summary.offset && summary.lowest) {
      const ratio = (a: number, b: number) => (b === 0 ? "n/a" : (a / b).toFixed(3));
      process.stdout.write(
        `offset / lowest: conflicts ${ratio(summary.offset.conflicts, summary.lowest.conflicts)}, time ${ratio(summary.offset.ms, summary.lowest.ms)}\n`,
      );
    }
  }
} finally {
  await etcd.cleanup();
}
