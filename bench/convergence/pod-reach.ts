import { resolve } from "node:path";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { createNetns } from "../../test/harness/netns.ts";
import { labPodAdd } from "../lab/lab-cli.ts";
import { LineProcess } from "./line-process.ts";
import { node1Netconf, node1PodAdd } from "./node1-pod-add.ts";

export interface PodSample {
  /** From the start (the Pod's create when a writer runs, else the ADD's start) to reachable. */
  reach: number;
  /** The CNI ADD itself. */
  add: number;
  /** ADD returned -> reachable from every other node. */
  afterAdd: number;
  /** The Pod's create in the datastore (0 without a writer). */
  create: number;
}

const now = () => performance.timeOrigin + performance.now();

export class PodReach {
  private constructor(
    private readonly lab: string,
    private readonly probers: LineProcess[],
    private readonly writer: LineProcess | undefined,
    private readonly netconf: Record<string, unknown>,
  ) {}

  /** writerArgs: how pod-writer.ts reaches the lab's datastore (--kubeconfig F or the etcd args). */
  static async open(lab: string, writerArgs?: string[]): Promise<PodReach> {
    const paths = labPaths(lab);
    const probers: LineProcess[] = [];
    const inNetns = (ns: string, script: string, args: string[] = []) =>
      new LineProcess([
        "ip",
        "netns",
        "exec",
        ns,
        process.execPath,
        resolve(import.meta.dir, script),
        ...args,
      ]);
    const writer = writerArgs ? inNetns(paths.fabricNetns, "pod-writer.ts", writerArgs) : undefined;
    try {
      for (const n of [2, 3]) {
        const p = await labPodAdd(lab, `node-${n}`, `probe${n}`);
        probers.push(inNetns(p.netns, "prober.ts"));
      }
    } catch (e) {
      for (const p of probers) await p.stop();
      await writer?.stop();
      throw e;
    }
    return new PodReach(lab, probers, writer, node1Netconf(lab));
  }

  /** Pod `conv-i` on node-1: created (with a writer), ADDed, then probed from node-2 and node-3. */
  async one(i: number): Promise<PodSample> {
    const _paths = labPaths(this.lab);
    const ns = await createNetns("cvp");
    const t0 = now();
    if (this.writer) {
      this.writer.send(`bench conv-${i} node-1`);
      const a = JSON.parse(await this.writer.next()) as { ok: boolean; error?: string };
      if (!a.ok) throw new Error(`lab ${this.lab}: Pod bench/conv-${i} not created: ${a.error}`);
    }
    const tAdd = now();
    const ip = await node1PodAdd(this.lab, this.netconf, ns.name, `conv-${i}`);
    const t1 = now();
    for (const p of this.probers) p.send(`${ip} 9 10000`);
    const answers = (await Promise.all(this.probers.map((p) => p.next()))).map(
      (l) => JSON.parse(l) as { ok: boolean; at: number },
    );
    if (answers.some((a) => !a.ok))
      throw new Error(`lab ${this.lab}: pod ${ip} not reachable from every node within 10 s`);
    const reached = Math.max(...answers.map((a) => a.at));
    return { reach: reached - t0, add: t1 - tAdd, afterAdd: reached - t1, create: tAdd - t0 };
  }

  async stop(): Promise<void> {
    for (const p of this.probers) await p.stop();
    await this.writer?.stop();
  }
}
