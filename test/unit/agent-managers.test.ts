// The agent's manager list (decision 0010): managers built by the wiring get the agent's
// datastore events, apply only after the first full sync, resync and stop in order, and do not
// wait for each other. Timers are a manual clock: nothing here waits for real time to pass.
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import type { KindMirror } from "../../src/agent/kind-mirror.ts";
import type { Manager, ManagerEvent, ManagerFactory } from "../../src/agent/manager.ts";
import { PolicyManager } from "../../src/agent/policy-manager.ts";
import { policyManager } from "../../src/agent/policy-manager-adapter.ts";
import { routingManager } from "../../src/agent/routing-manager.ts";
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { KINDS } from "../../src/model/cluster-resources.ts";
import { GatedDatastore, TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { FakeKernelPort } from "../harness/fake-kernel-port.ts";
import { ManualTimers } from "../harness/manual-timers.ts";

/** A manager that records every call in a log shared with the others, and can be held or failed. */
class RecordingManager implements Manager {
  readonly mirrors: KindMirror[] = [];
  inSync = true;
  applies = 0;
  /** Whether the agent had finished its first full sync at each apply. */
  readonly syncedAtApply: boolean[] = [];
  gate: Promise<void> | undefined;
  failNext: Error | undefined;
  agent: Agent | undefined;

  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}

  onUpdate(e: ManagerEvent): void {
    this.log.push(`${this.name}.onUpdate(${e.kind})`);
  }

  async apply(): Promise<{ changes: number }> {
    this.applies++;
    this.syncedAtApply.push(this.agent?.synced ?? false);
    this.log.push(`${this.name}.apply`);
    if (this.gate) await this.gate;
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    return { changes: 0 };
  }

  resync(): void {
    this.log.push(`${this.name}.resync`);
  }

  async stop(): Promise<void> {
    this.log.push(`${this.name}.stop`);
  }
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

function makeAgent(ds: MemoryDatastore, managers: ManagerFactory[], timers = new ManualTimers()) {
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const agent = new Agent({
    config: testAgentConfig("a", { resyncSeconds: 60 }),
    ds,
    store: new MemoryIpamStore(),
    managers,
    underlay: TEST_UNDERLAY,
    vtepMac: TEST_VTEP_MAC,
    log: (level, msg, fields) => logs.push({ level, msg, ...(fields ? { fields } : {}) }),
    timers,
    now: () => timers.now,
  });
  agents.push(agent);
  return { agent, logs, timers };
}

/** Two recording managers sharing one log, with the factories the wiring would list. */
function recorders() {
  const log: string[] = [];
  const a = new RecordingManager("a", log);
  const b = new RecordingManager("b", log);
  const factories: ManagerFactory[] = [() => a, () => b];
  const attach = (agent: Agent) => {
    a.agent = agent;
    b.agent = agent;
  };
  return { log, a, b, factories, attach };
}

describe("agent managers", () => {
  test("the wiring's managers, in its order, get the agent's events; nothing is applied before the first full sync", async () => {
    const ds = new GatedDatastore();
    let open!: () => void;
    ds.gate = new Promise((r) => {
      open = r;
    });
    const { log, a, b, factories, attach } = recorders();
    const { agent } = makeAgent(ds, factories);
    attach(agent);
    expect(agent.managers).toEqual([a, b]);
    const started = agent.start();
    await ds.reached;
    agent.resync(); // before the first sync: ignored, no manager is asked to do anything
    await agent.idle();
    expect(log).toEqual([]);
    ds.gate = undefined;
    open();
    await started;
    await agent.idle();
    // Both kinds listed (an event each, to every manager), then the applies, a's before b's.
    const firstApply = log.indexOf("a.apply");
    expect(firstApply).toBeGreaterThan(0);
    for (const kind of [KINDS.node, KINDS.ipamBlock]) {
      for (const m of ["a", "b"]) {
        const i = log.indexOf(`${m}.onUpdate(${kind})`);
        expect(i).toBeGreaterThanOrEqual(0);
        expect(i).toBeLessThan(firstApply);
      }
    }
    expect(log.indexOf("b.apply")).toBeGreaterThan(firstApply);
    expect([...a.syncedAtApply, ...b.syncedAtApply].every((s) => s)).toBe(true);
  });

  test("a manager whose view is not complete holds the first sync (the wait runs on the agent's clock)", async () => {
    const { a, b, factories, attach } = recorders();
    a.inSync = false;
    const { agent, timers } = makeAgent(new MemoryDatastore(), factories);
    attach(agent);
    let done = false;
    const started = agent.start().then(() => {
      done = true;
    });
    for (let i = 0; i < 5; i++) {
      await Bun.sleep(0);
      timers.advance(50);
    }
    expect(done).toBe(false);
    expect(agent.synced).toBe(false);
    expect(a.applies + b.applies).toBe(0);
    a.inSync = true;
    timers.advance(50);
    await started;
    await agent.idle();
    expect(agent.synced).toBe(true);
    expect([a.applies, b.applies]).toEqual([1, 1]);
  });

  test("resync asks every manager, then applies each; stop stops each and leaves the timers clear", async () => {
    const { log, factories, attach } = recorders();
    const { agent, timers } = makeAgent(new MemoryDatastore(), factories);
    attach(agent);
    await agent.start();
    await agent.idle();
    log.length = 0;
    timers.advance(60_000); // resyncSeconds
    await agent.idle();
    expect(log).toEqual(["a.resync", "b.resync", "a.apply", "b.apply"]);
    expect(agent.metrics.resyncs).toBe(1);
    log.length = 0;
    await agent.stop();
    expect(log).toEqual(["a.stop", "b.stop"]);
    timers.advance(3_600_000);
    await agent.idle();
    expect(log).toEqual(["a.stop", "b.stop"]);
  });

  test("one manager's long apply does not hold another's; its own triggers coalesce into one more apply", async () => {
    const { a, b, factories, attach } = recorders();
    const { agent } = makeAgent(new MemoryDatastore(), factories);
    attach(agent);
    await agent.start();
    await agent.idle();
    let release!: () => void;
    a.gate = new Promise((r) => {
      release = r;
    });
    agent.resync();
    await Bun.sleep(0);
    expect([a.applies, b.applies]).toEqual([2, 2]);
    for (let i = 0; i < 5; i++) agent.resync();
    await Bun.sleep(0);
    expect(b.applies).toBe(3); // b applied again while a's apply was still running
    expect(a.applies).toBe(2);
    a.gate = undefined;
    release();
    await agent.idle();
    expect(a.applies).toBe(3); // five triggers during the run: exactly one more
  });

  test("a failed apply is logged with the manager's name and retried by the next trigger", async () => {
    const { a, b, factories, attach } = recorders();
    const { agent, logs } = makeAgent(new MemoryDatastore(), factories);
    attach(agent);
    await agent.start();
    await agent.idle();
    a.failNext = new Error("RTNETLINK answers: busy");
    agent.resync();
    await agent.idle();
    const failure = logs.find((l) => l.msg === "kernel apply failed; the next trigger or resync retries");
    expect(failure?.fields?.manager).toBe("a");
    expect(b.applies).toBe(2);
    agent.resync();
    await agent.idle();
    expect(a.applies).toBe(3);
  });

  test("routing and policy from the wiring: agent.policy is the policy manager, applied after the first sync", async () => {
    const ds = new MemoryDatastore();
    const kernel = new FakeKernelPort();
    const nft = new FakeNft();
    const { agent } = makeAgent(ds, [routingManager(kernel), policyManager({ nft, sctp: true })]);
    expect(agent.managers.map((m) => m.name)).toEqual(["routing", "policy"]);
    expect(agent.policy).toBeInstanceOf(PolicyManager);
    await agent.start();
    await agent.idle();
    expect(kernel.applies).toBe(1);
    expect(agent.policy!.metrics.applies).toBe(1);
    const without = makeAgent(ds, [routingManager(new FakeKernelPort())]).agent;
    expect(without.policy).toBeUndefined();
  });
});
