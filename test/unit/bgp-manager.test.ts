// The BGP manager (agent/bgp-manager.ts) on a fake BIRD: it starts bird after the agent's first
// sync, reconfigures only when the text changed, adopts a running bird, restarts a dead one from
// its watchdog, keeps the old config when `bird -p` refuses the new one, leaves bird running on
// stop, and reads the status from bird's replies. Timers are a manual clock.
import { afterEach, describe, expect, test } from "bun:test";
import { Agent } from "../../src/agent/agent.ts";
import { agentApi } from "../../src/agent/agent-api.ts";
import { type BgpManager, bgpManager } from "../../src/agent/bgp-manager.ts";
import { parseProtocols, parseRoutes } from "../../src/agent/bgp-status.ts";
import { type BirdDaemon, type BirdReply, birdPaths } from "../../src/dataplane/bird-daemon.ts";
import { parseBirdReply } from "../../src/dataplane/linux/bird-process.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { TEST_UNDERLAY, TEST_VTEP_MAC, testAgentConfig } from "../harness/agent-fixtures.ts";
import { eventually } from "../harness/eventually.ts";
import { ManualTimers } from "../harness/manual-timers.ts";

class FakeBird implements BirdDaemon {
  readonly paths = birdPaths("/fake");
  conf: string | undefined;
  pid: number | undefined;
  readonly calls: string[] = [];
  refuseNext = false;
  replies: Record<string, BirdReply> = {};
  private nextPid = 100;

  async writeConfig(text: string): Promise<void> {
    this.calls.push("write");
    if (this.refuseNext) {
      this.refuseNext = false;
      throw new TartanError("bgp-config-invalid", "bird refused the generated config: x");
    }
    this.conf = text;
  }
  async running(): Promise<number | undefined> {
    return this.pid;
  }
  /** A bird that lives but does not answer (hung). */
  hungPid: number | undefined;
  process(): number | undefined {
    return this.hungPid ?? this.pid;
  }
  kill(pid: number): void {
    this.calls.push(`kill ${pid}`);
    if (this.hungPid === pid) this.hungPid = undefined;
  }
  sharesNetns(): boolean {
    return true;
  }
  async terminate(pid: number): Promise<boolean> {
    this.calls.push(`terminate ${pid}`);
    if (this.pid === pid) this.pid = undefined;
    return true;
  }
  async start(): Promise<number> {
    this.calls.push("start");
    this.pid = this.nextPid++;
    return this.pid;
  }
  async command(cmd: string): Promise<BirdReply> {
    this.calls.push(cmd);
    if (cmd === "configure") return [{ code: 3, text: "Reconfigured" }];
    return this.replies[cmd] ?? [{ code: 0, text: "" }];
  }
}

const agents: Agent[] = [];
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
});

async function startAgent(bird: FakeBird, ds = new MemoryDatastore()) {
  const timers = new ManualTimers();
  const logs: string[] = [];
  const store = new MemoryIpamStore();
  const agent = new Agent({
    config: testAgentConfig("a", { backend: "bgp" }),
    ds,
    store,
    managers: [bgpManager(bird)],
    underlay: TEST_UNDERLAY,
    vtepMac: TEST_VTEP_MAC,
    nodeBgp: { ipv6Address: "fd00::2" },
    log: (_level, msg) => logs.push(msg),
    timers,
    now: () => timers.now,
  });
  agents.push(agent);
  await agent.start();
  await agent.idle();
  const m = agent.managers[0] as BgpManager;
  return { agent, m, ds, timers, logs, store };
}

const peer = (name: string, ip: string) => ({
  apiVersion: "tartan.dev/v1alpha1",
  kind: "BGPPeer",
  metadata: { name },
  spec: { peerIP: ip, asNumber: 65000 },
});

describe("BGP manager", () => {
  test("first sync: config written, bird started once; a change: configure; no change: nothing", async () => {
    const bird = new FakeBird();
    const { agent, ds, logs } = await startAgent(bird);
    expect(bird.calls).toEqual(["write", "start"]);
    expect(bird.conf).toContain("router id 198.18.0.2;");
    // bird logs to a size-limited file beside its socket (renamed to bird.log.1 past 8 MiB).
    expect(bird.conf).toContain(`log "/fake/bird.log" ${8 << 20} "/fake/bird.log.1" all;`);
    expect(bird.conf).toMatch(/route 10\.244\.0\.\d+\/26 blackhole;/);
    expect(logs).toContain("bird started");
    await ds.create(peer("tor", "198.18.0.254"));
    await eventually("the new peer configured", () => bird.calls.includes("configure"), { timeoutMs: 3000 });
    expect(bird.conf).toContain("neighbor 198.18.0.254 as 65000;");
    const n = bird.calls.length;
    agent.resync();
    await agent.idle();
    expect(bird.calls.slice(n)).toEqual([]); // same text: neither written nor configured
  });

  test("a block the node claims for a pod (socket API) is advertised at once, not at the next resync", async () => {
    // The claim is recorded in the mirror (observe) before its watch event arrives, so that
    // event changes nothing and fires no apply: the claim itself must trigger one. Seen in a
    // 50-node lab: a fresh block reached bird 14 s after its claim, at an unrelated trigger.
    const bird = new FakeBird();
    const { agent, store } = await startAgent(bird);
    const first = /route (10\.244\.0\.\d+\/26) blackhole;/.exec(bird.conf ?? "")![1]!;
    const base = first.split("/")[0]!.split(".").map(Number);
    for (let i = 1; i < 64; i++)
      store.transaction((tx) =>
        tx.reserve({
          network: "net",
          ip: `10.244.0.${base[3]! + i}`,
          containerId: `c${i}`,
          ifname: "eth0",
          rangeKey: "k",
        }),
      );
    const r = await agentApi(agent)(
      new Request("http://x/v1/blocks", {
        method: "POST",
        body: JSON.stringify({ network: "net", family: 4 }),
      }),
    );
    const { claimed } = (await r.json()) as { claimed?: string };
    expect(claimed).toMatch(/^10\.244\.\d+\.\d+\/26$/);
    await eventually(
      "the claimed block in bird's config",
      () => bird.conf!.includes(`route ${claimed} blackhole;`),
      {
        timeoutMs: 3000,
      },
    );
    await agent.idle();
    expect(bird.calls.at(-1)).toBe("configure");
  });

  test("a running bird is adopted (configured, not started)", async () => {
    const bird = new FakeBird();
    bird.pid = 42;
    const { logs } = await startAgent(bird);
    expect(bird.calls).toEqual(["write", "configure"]);
    expect(logs).toContain("bird adopted and reconfigured");
  });

  test("watchdog: a dead bird is started again; stop() leaves bird running", async () => {
    const bird = new FakeBird();
    const { agent, m, timers } = await startAgent(bird);
    bird.pid = undefined; // SIGKILL
    timers.advance(1000);
    await eventually("bird restarted", () => bird.pid !== undefined, { timeoutMs: 3000 });
    expect(m.restarts).toBe(1);
    expect(bird.calls.filter((c) => c === "start").length).toBe(2);
    await agent.stop();
    expect(bird.pid).toBeDefined();
    timers.advance(5000);
    expect(bird.calls.filter((c) => c === "start").length).toBe(2);
  });

  test("watchdog: a live bird that stops answering is killed after 5 probes, then replaced", async () => {
    const bird = new FakeBird();
    const { agent, timers } = await startAgent(bird);
    bird.hungPid = bird.pid;
    bird.pid = undefined;
    // An apply meanwhile (a resync) must not start a second bird beside the silent one: probe 1.
    agent.resync();
    await agent.idle();
    expect(bird.calls.filter((c) => c === "start").length).toBe(1);
    for (let i = 2; i <= 4; i++) {
      timers.advance(1000);
      await Bun.sleep(5);
    }
    expect(bird.calls.filter((c) => c === "start").length).toBe(1);
    expect(bird.calls.filter((c) => c === "start").length).toBe(1);
    timers.advance(1000);
    await eventually("hung bird replaced", () => bird.pid !== undefined, { timeoutMs: 3000 });
    expect(bird.calls.slice(-2)).toEqual(["kill 100", "start"]);
  });

  test("a config bird -p refuses: apply fails, the running bird is not reconfigured, retried later", async () => {
    const bird = new FakeBird();
    const { agent, ds } = await startAgent(bird);
    const before = bird.conf;
    bird.refuseNext = true;
    await ds.create(peer("tor", "198.18.0.254"));
    await eventually("the refused write", () => bird.calls.filter((c) => c === "write").length === 2, {
      timeoutMs: 3000,
    });
    await agent.idle();
    expect(bird.conf).toBe(before);
    expect(bird.calls).not.toContain("configure");
    agent.resync();
    await eventually("written on retry", () => bird.calls.includes("configure"), { timeoutMs: 3000 });
    expect(bird.conf).toContain("198.18.0.254");
  });

  test("status: sessions from bird's replies, a verdict", async () => {
    const bird = new FakeBird();
    const ds = new MemoryDatastore();
    await ds.create(peer("tor", "198.18.0.254"));
    const { m } = await startAgent(bird, ds);
    bird.replies["show protocols all"] = parseBirdReply(
      [
        "2002-Name       Proto      Table      State  Since         Info",
        "1002-ext_198_18_0_254 BGP        ---        start  10:01:02.345  Active        Socket: Connection refused",
        "1006-  BGP state:          Active",
        "       Neighbor address: 198.18.0.254",
        "       Last error:       Socket: Connection refused",
        "0000 ",
        "",
      ].join("\n"),
    ).lines;
    const s = await m.status();
    expect(s.sessions).toEqual([
      {
        peer: "198.18.0.254",
        asNumber: 65000,
        type: "external",
        state: "Active",
        since: "10:01:02.345",
        info: "Socket: Connection refused",
        families: ["ipv4", "ipv6"],
        importedRoutes: 0,
        exportedRoutes: 0,
        protocol: "ext_198_18_0_254",
      },
    ]);
    expect(s.healthy).toBe(false);
    expect(s.verdict).toBe(
      "degraded: 0/1 sessions established; 198.18.0.254 is Active (Socket: Connection refused)",
    );
  });
});

describe("BIRD's replies", () => {
  test("codes, continuation lines, the final line", () => {
    const r = parseBirdReply(
      "1002-a BGP --- up 10:00:00.000 Established\n1006-  Routes: 2 imported, 1 exported\n x\n0000 \n",
    );
    expect(r.done).toBe(true);
    expect(r.lines.map((l) => l.code)).toEqual([1002, 1006, 1006, 0]);
    expect(parseBirdReply("0001-BIRD 2.0.12\n").done).toBe(false);
    const rows = parseProtocols(r.lines);
    expect(rows[0]).toMatchObject({ name: "a", state: "up", since: "10:00:00.000", info: "Established" });
  });

  test("show route: prefix, next hop, protocol; a second route of the same prefix", () => {
    const r = parseRoutes(
      parseBirdReply(
        [
          "1007-Table master4:",
          " 10.244.0.64/26      unicast [mesh_198_18_0_12 10:00:00.000] * (100) [i]",
          "\tvia 198.18.0.12 on eth0",
          "                     unicast [mesh_198_18_0_13 10:00:00.000] (100) [i]",
          "\tvia 198.18.0.13 on eth0",
          "0000 ",
          "",
        ].join("\n"),
      ).lines,
    );
    expect(r).toEqual([
      { dst: "10.244.0.64/26", from: "mesh_198_18_0_12", via: "198.18.0.12", dev: "eth0" },
      { dst: "10.244.0.64/26", from: "mesh_198_18_0_13", via: "198.18.0.13", dev: "eth0" },
    ]);
  });
});
