// The agent's conflist (Kubernetes mode): absent from the config = none written (the lab's
// behaviour); present = written only after the first sync, atomically, rewritten when it goes
// missing, removed when the agent stops. Plus the DaemonSet's probes.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metricsApi } from "../../src/agent/agent-api.ts";
import { CniConfigFile, cniConfList } from "../../src/agent/cni-config-file.ts";
import { startAgent } from "../../src/agent/run-agent.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { MemoryIpamStore } from "../../src/datastore/memory-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { parseNetConf } from "../../src/model/net-conf.ts";
import { GatedDatastore, TEST_UNDERLAY, testAgentConfig } from "../harness/agent-fixtures.ts";
import { eventually } from "../harness/eventually.ts";

const tmp = mkdtempSync(join(tmpdir(), "tartan-agent-cni-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const dir = () => join(tmp, `d${n++}`);

describe("agent config: cniConfig", () => {
  test("absent by default; defaults mtu 0 (auto) and removeOnStop", () => {
    expect(testAgentConfig("a").cniConfig).toBeUndefined();
    const c = testAgentConfig("a", { cniConfig: { file: "/etc/cni/net.d/10-tartan.conflist" } });
    expect(c.cniConfig).toEqual({ file: "/etc/cni/net.d/10-tartan.conflist", mtu: 0, removeOnStop: true });
  });

  test("refuses a relative file, another extension, a tiny MTU, unknown fields", () => {
    for (const [bad, field] of [
      [{ file: "10-tartan.conflist" }, "cniConfig.file"],
      [{ file: "/etc/cni/net.d/10-tartan.conf" }, "cniConfig.file"],
      [{ file: "/etc/cni/net.d/10-tartan.conflist", mtu: 100 }, "cniConfig.mtu"],
      [{ file: "/etc/cni/net.d/10-tartan.conflist", extra: 1 }, "cniConfig"],
    ] as const) {
      let err: unknown;
      try {
        testAgentConfig("a", { cniConfig: bad });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TartanError);
      expect((err as TartanError).message).toContain(field);
    }
  });
});

describe("the conflist", () => {
  test("one tartan plugin the plugin's own parser accepts: routed, node blocks through the socket", () => {
    const config = testAgentConfig("a", {
      backend: "vxlan",
      socket: "/run/tartan/agent.sock",
      ipamDataDir: "/var/lib/tartan/ipam",
      cniConfig: { file: "/etc/cni/net.d/10-tartan.conflist" },
    });
    const list = JSON.parse(cniConfList(config, config.cniConfig!, TEST_UNDERLAY));
    expect(list.cniVersion).toBe("1.1.0");
    expect(list.name).toBe("net");
    expect(list.plugins).toHaveLength(1);
    const conf = parseNetConf({ cniVersion: list.cniVersion, name: list.name, ...list.plugins[0] });
    expect(conf.type).toBe("tartan");
    expect(conf.mode).toBe("routed");
    // Auto MTU: the underlay's 1500 less VXLAN's 50 over IPv4.
    expect(conf.mtu).toBe(1450);
    expect(conf.ipam).toEqual({
      type: "tartan-ipam",
      nodeBlocks: true,
      agentSocket: "/run/tartan/agent.sock",
      dataDir: "/var/lib/tartan/ipam",
    });
  });

  test("a configured MTU is taken as it is; host-gw has no overhead", () => {
    const fixed = testAgentConfig("a", { cniConfig: { file: "/x/a.conflist", mtu: 1400 } });
    expect(JSON.parse(cniConfList(fixed, fixed.cniConfig!, TEST_UNDERLAY)).plugins[0].mtu).toBe(1400);
    const hostGw = testAgentConfig("a", { backend: "host-gw", cniConfig: { file: "/x/a.conflist" } });
    expect(JSON.parse(cniConfList(hostGw, hostGw.cniConfig!, TEST_UNDERLAY)).plugins[0].mtu).toBe(1500);
  });

  test("CniConfigFile writes through a temp name, rewrites a changed or missing file, removes it", () => {
    const d = dir();
    const path = join(d, "10-tartan.conflist");
    const f = new CniConfigFile(path, '{"a":1}\n');
    expect(f.ensure()).toBe(true);
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n');
    expect(readdirSync(d)).toEqual(["10-tartan.conflist"]);
    expect(f.ensure()).toBe(false);
    writeFileSync(path, "edited by hand");
    expect(f.ensure()).toBe(true);
    expect(readFileSync(path, "utf8")).toBe('{"a":1}\n');
    rmSync(path);
    expect(f.ensure()).toBe(true);
    f.remove();
    expect(existsSync(path)).toBe(false);
    f.remove();
  });
});

describe("startAgent with cniConfig", () => {
  async function start(ds: MemoryDatastore, cniConfig: Record<string, unknown>) {
    const d = dir();
    const dp = new FakeDataplane();
    await dp.apply(null, [
      { op: "bridge-add", name: "eth0" },
      { op: "addr-add", dev: "eth0", cidr: "198.18.0.2/15" },
      { op: "link-set", name: "eth0", up: true },
    ]);
    const config = testAgentConfig("a", { socket: join(d, "agent.sock"), cniConfig });
    const running = await startAgent(config, {
      openDatastore: async () => ds,
      openIpamStore: () => new MemoryIpamStore(),
      dataplane: () => dp,
      managers: async () => [],
      log: () => {},
    });
    return { running, config };
  }

  test("writes the conflist only after the first sync, and removes it on stop", async () => {
    const ds = new GatedDatastore();
    let open!: () => void;
    ds.gate = new Promise<void>((r) => {
      open = r;
    });
    const file = join(dir(), "10-tartan.conflist");
    const { running } = await start(ds, { file });
    try {
      await ds.reached;
      await Bun.sleep(100);
      expect(running.agent.synced).toBe(false);
      expect(existsSync(file)).toBe(false);
      const m = metricsApi(running.agent);
      expect(m(new Request("http://x/readyz")).status).toBe(503);
      expect(m(new Request("http://x/livez")).status).toBe(200);
      open();
      await eventually("the conflist", () => existsSync(file), { timeoutMs: 5000 });
      expect(running.agent.synced).toBe(true);
      expect(m(new Request("http://x/readyz")).status).toBe(200);
      expect(JSON.parse(readFileSync(file, "utf8")).plugins[0].type).toBe("tartan");
    } finally {
      await running.stop();
    }
    expect(existsSync(file)).toBe(false);
  });

  test("removeOnStop: false leaves the file for the next agent", async () => {
    const file = join(dir(), "10-tartan.conflist");
    const { running } = await start(new MemoryDatastore(), { file, removeOnStop: false });
    try {
      await eventually("the conflist", () => existsSync(file), { timeoutMs: 5000 });
    } finally {
      await running.stop();
    }
    expect(existsSync(file)).toBe(true);
  });
});
