import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { run } from "../../src/exec/run.ts";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { createNetns, deleteNetns } from "../../test/harness/netns.ts";
import { summarize } from "../cni/stats.ts";
import { trackLab, untrackLab } from "../lab/cleanup.ts";
import { labDown, labName, labUp, TARTAN } from "../lab/lab-cli.ts";
import { LineProcess } from "./line-process.ts";
import { node1Netconf, node1PodAdd } from "./node1-pod-add.ts";

const now = () => performance.timeOrigin + performance.now();

export interface FreshBlockResult {
  backend: string;
  nodes: number;
  /** ADD start → reachable from every other node, ms. */
  reach: ReturnType<typeof summarize>;
  add: ReturnType<typeof summarize>;
  afterAdd: ReturnType<typeof summarize>;
  /** bird's VmRSS per node, KiB (bgp only). */
  birdRssKiB?: { mean: number; max: number; nodes: number };
  /** `lab up`; for bgp backends it includes lab up's own wait for the sessions (up to 30 s). */
  upSeconds: number;
  /**
   * bgp backends: lab up returned → every BGP session Established (bgp status), s: ~0 unless
   * lab up's 30 s wait ran out (large labs).
   */
  meshSeconds?: number;
}

/**
 * Waits until `tartan bgp status` shows every session of every node Established. Pods are
 * measured only after that: a session still connecting (its peer's bird not yet configured for
 * it, then BIRD's error wait of 5-30 s) is node bring-up, not the fresh block's convergence; the
 * time it takes is reported apart.
 */
async function waitMeshEstablished(lab: string, timeoutMs: number): Promise<number> {
  const t0 = now();
  let last = "";
  while (now() - t0 < timeoutMs) {
    const r = await run([TARTAN, "bgp", "status", "--lab", lab, "-o", "json"], {
      allowFailure: true,
      timeoutMs: 30_000,
    });
    try {
      const st = JSON.parse(r.stdout) as { nodes: { name: string; sessions?: { state: string }[] }[] };
      const down = st.nodes.flatMap((n) =>
        (n.sessions ?? []).filter((x) => x.state !== "Established").map(() => n.name),
      );
      if (st.nodes.length > 0 && down.length === 0) return (now() - t0) / 1000;
      last = `${down.length} sessions not Established`;
    } catch {
      last = r.stderr.trim() || r.stdout.trim();
    }
    // Not faster: at 50 nodes each status asks 50 agents, each its bird for 49 sessions — a
    // poll every 500 ms loaded the 2-core machine enough to slow the mesh it was waiting for.
    await Bun.sleep(5_000);
  }
  throw new Error(`bgp: sessions not all Established ${timeoutMs / 1000} s after lab up (${last})`);
}

function birdRssKiB(nodeDirs: string[]): FreshBlockResult["birdRssKiB"] {
  const rss: number[] = [];
  for (const d of nodeDirs) {
    try {
      const pid = Number(readFileSync(`${d}/bird/bird.pid`, "utf8").trim());
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
      if (m) rss.push(Number(m[1]));
    } catch {}
  }
  if (rss.length === 0) return undefined;
  return { mean: rss.reduce((a, b) => a + b, 0) / rss.length, max: Math.max(...rss), nodes: rss.length };
}

export async function freshBlockRun(
  backend: string,
  nodes: number,
  pods: number,
  log: (m: string) => void,
): Promise<FreshBlockResult> {
  const name = labName("bcf");
  trackLab(name);
  const t0 = now();
  await labUp(name, { nodes, backend, extra: ["--block-size", "30"] });
  const upSeconds = (now() - t0) / 1000;
  log(`${backend}: ${nodes}-node lab ${name} up in ${upSeconds.toFixed(1)} s`);
  const meshSeconds = backend.startsWith("bgp") ? await waitMeshEstablished(name, 900_000) : undefined;
  if (meshSeconds !== undefined)
    log(`${backend}: every BGP session Established ${meshSeconds.toFixed(1)} s later`);
  const paths = labPaths(name);
  const probers: LineProcess[] = [];
  const reach: number[] = [];
  const add: number[] = [];
  const afterAdd: number[] = [];
  try {
    for (let i = 2; i <= nodes; i++) {
      probers.push(
        new LineProcess([
          "ip",
          "netns",
          "exec",
          paths.nodeNetns(i),
          process.execPath,
          resolve(import.meta.dir, "prober.ts"),
        ]),
      );
    }
    const netconf = node1Netconf(name);
    for (let i = 0; i <= pods; i++) {
      const ns = await createNetns("cvf");
      const s = now();
      const ip = await node1PodAdd(name, netconf, ns.name, `fresh-${i}`, (attempt) =>
        log(`${backend} N=${nodes} pod ${i}: ADD attempt ${attempt} failed (code 11), retrying`),
      );
      const e = now();
      for (const p of probers) p.send(`${ip} 9 15000`);
      const answers = (await Promise.all(probers.map((p) => p.next()))).map(
        (l) => JSON.parse(l) as { ok: boolean; at: number },
      );
      if (answers.some((a) => !a.ok))
        throw new Error(`${backend}: pod ${ip} not reachable from every node in 15 s`);
      if (i === 0) continue; // warm-up
      const at = Math.max(...answers.map((a) => a.at));
      reach.push(at - s);
      add.push(e - s);
      afterAdd.push(at - e);
      log(
        `${backend} N=${nodes} pod ${i}/${pods} ${ip}: every node ${(at - s).toFixed(0)} ms after ADD start`,
      );
      // The pod's namespace goes; its address and block stay (no DEL): the next pod gets a new block.
      await deleteNetns(ns.name);
    }
    return {
      backend,
      nodes,
      reach: summarize(reach),
      add: summarize(add),
      afterAdd: summarize(afterAdd),
      birdRssKiB: birdRssKiB(Array.from({ length: nodes }, (_, k) => paths.nodeDir(`node-${k + 1}`))),
      upSeconds,
      ...(meshSeconds !== undefined ? { meshSeconds } : {}),
    };
  } finally {
    for (const p of probers) await p.stop();
    await labDown(name);
    untrackLab(name);
  }
}
