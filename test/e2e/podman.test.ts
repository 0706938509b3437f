// End to end through a real runtime: podman (CNI backend, libcni inside) calls dist/tartan exactly as
// it would on a node. Runs in the root namespace by necessity, so everything goes through the
// test-private harness in test/harness/podman.ts (private config, test-only range, cleanup).
// The first suite runs the reference bridge plugin through the same harness: if it fails, the
// harness or the machine is broken, not tartan.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import type { JsonObject } from "../harness/cni-invoke.ts";
import { eventually } from "../harness/eventually.ts";
import { isRoot } from "../harness/netns.ts";
import {
  createPodmanEnv,
  type NetworkContext,
  type PodmanEnv,
  podmanAvailable,
  TARTAN_BINARY,
} from "../harness/podman.ts";

const canRun = isRoot && (await podmanAvailable());
const SUBNET = "10.213.57.0/24";
// Three addresses only, so exhaustion (and so any leak) shows up with a handful of containers.
const RANGE = { rangeStart: "10.213.57.10", rangeEnd: "10.213.57.12", gateway: "10.213.57.1" };
const T = 120_000;

function referenceConflist(c: NetworkContext): { cniVersion: string; plugins: JsonObject[] } {
  const ipam = { type: "host-local", ranges: [[{ subnet: c.subnet, ...RANGE }]], dataDir: c.ipamDir };
  return {
    cniVersion: "1.0.0",
    plugins: [{ type: "bridge", bridge: c.bridge, isGateway: true, hairpinMode: true, ipam }],
  };
}

function tartanConflist(mode: "bridge" | "routed") {
  // podman 4.3.1 vendors libcni 1.1.x, which cannot parse 1.1.0 results: it must run us at 1.0.0
  // (newer runtimes pick 1.1.0 from cniVersions).
  return (c: NetworkContext) => ({
    cniVersion: "1.0.0",
    cniVersions: ["1.0.0", "1.1.0"],
    plugins: [
      {
        type: "tartan",
        mode,
        bridge: c.bridge,
        mtu: 1500,
        ipMasq: true,
        ipam: {
          type: "tartan-ipam",
          ranges: [[{ subnet: c.subnet, ...RANGE }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: c.ipamDir,
        },
      },
    ],
  });
}

/** Starts a one-line TCP server in `name` on port 5000 that answers `reply` to every connection. */
async function serveTcp(env: PodmanEnv, name: string, reply: string): Promise<void> {
  await env.podman(["exec", "-d", name, "sh", "-c", `while true; do echo ${reply} | nc -l -p 5000; done`]);
}

async function tcpFetch(env: PodmanEnv, from: string, ip: string): Promise<string> {
  // The listener starts asynchronously; retry briefly instead of sleeping a fixed time.
  const answer = async () =>
    (
      await env.execIn(from, ["sh", "-c", `nc -w 2 ${ip} 5000 </dev/null`], { allowFailure: true })
    ).stdout.trim();
  return await eventually(`an answer from ${ip}:5000`, answer, {
    // Was 20 tries 150 ms apart; a podman exec takes a few hundred ms, so that is ~5-10 s.
    timeoutMs: 10_000,
    intervalMs: 150,
    until: (out) => out !== "",
    onTimeout: "last",
  });
}

const inRange = (ip: string) => {
  const last = Number(ip.split(".")[3]);
  return ip.startsWith("10.213.57.") && last >= 10 && last <= 12;
};

function connectivitySuite(
  label: string,
  conflist: (c: NetworkContext) => object,
  tartan: boolean,
  routed = false,
) {
  describe.skipIf(!canRun)(label, () => {
    let env: PodmanEnv | undefined;
    afterAll(async () => {
      await env?.cleanup();
    });

    test(
      "containers get addresses from the range, ping and TCP work, rm frees addresses, cleanup leaves nothing",
      async () => {
        if (tartan && !existsSync(TARTAN_BINARY))
          throw new Error(`${TARTAN_BINARY} missing: run npm run build`);
        const e = await createPodmanEnv({
          conflist: conflist as (c: NetworkContext) => { cniVersion: string; plugins: JsonObject[] },
          subnet: SUBNET,
          withTartan: tartan,
        });
        env = e;
        await e.runContainer("a");
        await e.runContainer("b");
        const ipA = await e.containerIp("a");
        const ipB = await e.containerIp("b");
        // Routed mode must not fall back to a bridge; bridge mode must have created one.
        expect(await linkExists(e.bridge)).toBe(!routed);
        expect(inRange(ipA)).toBe(true);
        expect(inRange(ipB)).toBe(true);
        expect(ipA).not.toBe(ipB);

        const ping = await e.execIn("b", ["ping", "-c", "2", "-W", "2", ipA], { allowFailure: true });
        expect(ping.stdout + ping.stderr).toContain("2 packets received");
        const pingBack = await e.execIn("a", ["ping", "-c", "1", "-W", "2", ipB], { allowFailure: true });
        expect(pingBack.code).toBe(0);

        await serveTcp(e, "a", "hello-from-a");
        expect(await tcpFetch(e, "b", ipA)).toBe("hello-from-a");

        // Third container takes the last address; a fourth must be refused (range exhausted).
        await e.runContainer("c");
        const ipC = await e.containerIp("c");
        expect(inRange(ipC)).toBe(true);
        const full = await e.runContainer("d").catch((err: Error) => err);
        expect(full).toBeInstanceOf(Error);

        // Removing one container must free exactly its address for the next one.
        await e.podman(["rm", "-f", "-t", "0", "a"]);
        await e.runContainer("d2");
        expect(await e.containerIp("d2")).toBe(ipA);

        await e.podman(["rm", "-f", "-t", "0", "b", "c", "d", "d2"]);
        // After every container is gone no host-side interface of ours may remain.
        expect(await hostSideLinks(e)).toEqual([]);
        await e.cleanup();
        expect(existsSync(e.dir)).toBe(false);
        expect(await linkExists(e.bridge)).toBe(false);
        expect(await routesIn()).toEqual([]);
      },
      T,
    );
  });
}

/** veths attached to our bridge (bridge mode) or carrying routes into the test range (routed). */
async function hostSideLinks(e: PodmanEnv): Promise<string[]> {
  const r = await run(["ip", "-j", "link", "show", "master", e.bridge], { allowFailure: true });
  const enslaved = r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as { ifname: string }[]) : [];
  // The bridge's own connected route stays until cleanup; per-container routes must not.
  const routes = (await routesIn()).filter((l) => !l.includes(`dev ${e.bridge} `));
  return [...enslaved.map((l) => l.ifname), ...routes];
}

async function routesIn(): Promise<string[]> {
  const r = await run(["ip", "-4", "route", "show", "root", SUBNET]);
  return r.stdout.split("\n").filter((l) => l.trim());
}

async function linkExists(name: string): Promise<boolean> {
  return (await run(["ip", "link", "show", name], { allowFailure: true })).code === 0;
}

connectivitySuite("podman + reference bridge plugin (harness baseline)", referenceConflist, false);
connectivitySuite("podman + tartan, bridge mode", tartanConflist("bridge"), true);
connectivitySuite("podman + tartan, routed mode", tartanConflist("routed"), true, true);
