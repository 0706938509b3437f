// retireBird (agent/retire-bird.ts): a node moved off a bgp backend stops the bird an earlier agent
// left running and removes that bird's routes inside the agent's pools, nothing else.
import { expect, test } from "bun:test";
import { PROTO_BIRD, retireBird } from "../../src/agent/retire-bird.ts";
import { type BirdDaemon, type BirdReply, birdPaths } from "../../src/dataplane/bird-daemon.ts";
import { FakeDataplane } from "../../src/dataplane/fake/fake-dataplane.ts";

class LeftBird implements BirdDaemon {
  readonly paths = birdPaths("/fake");
  readonly calls: string[] = [];
  constructor(
    public pid: number | undefined,
    private readonly stops = true,
    private readonly here = true,
  ) {}
  sharesNetns(): boolean {
    return this.here;
  }
  async writeConfig(): Promise<void> {}
  async running(): Promise<number | undefined> {
    return this.pid;
  }
  process(): number | undefined {
    return this.pid;
  }
  kill(pid: number): void {
    this.calls.push(`kill ${pid}`);
  }
  async terminate(pid: number): Promise<boolean> {
    this.calls.push(`terminate ${pid}`);
    if (this.stops) this.pid = undefined;
    return this.stops;
  }
  async start(): Promise<number> {
    throw new Error("retirement never starts bird");
  }
  async command(): Promise<BirdReply> {
    return [];
  }
}

async function kernelWithBirdRoutes(): Promise<FakeDataplane> {
  const dp = new FakeDataplane();
  await dp.apply(null, [
    { op: "bridge-add", name: "ttdummy0" },
    { op: "link-set", name: "ttdummy0", up: true },
    { op: "addr-add", dev: "ttdummy0", cidr: "198.18.0.2/24" },
    // bird's: two remote blocks in the pool, one IPv6 block in the v6 pool, one outside any pool
    {
      op: "route-add",
      dst: "10.244.1.0/26",
      family: 4,
      via: "198.18.0.3",
      dev: "ttdummy0",
      proto: PROTO_BIRD,
    },
    { op: "route-add", dst: "10.244.2.0/26", family: 4, type: "blackhole", proto: PROTO_BIRD },
    {
      op: "route-add",
      dst: "10.99.0.0/24",
      family: 4,
      via: "198.18.0.4",
      dev: "ttdummy0",
      proto: PROTO_BIRD,
    },
    { op: "route-add", dst: "10.0.0.0/8", family: 4, via: "198.18.0.4", dev: "ttdummy0", proto: PROTO_BIRD },
    // tartan's own route to a block (proto 201) and a boot route inside the pool: not bird's
    { op: "route-add", dst: "10.244.3.0/26", family: 4, via: "198.18.0.5", dev: "ttdummy0", proto: 201 },
    { op: "route-add", dst: "10.244.4.0/26", family: 4, via: "198.18.0.5", dev: "ttdummy0" },
  ]);
  return dp;
}

const pools = [{ cidr: "10.244.0.0/16" }];
const dsts = async (dp: FakeDataplane) => (await dp.routes(null, 4)).map((r) => `${r.dst} ${r.proto}`).sort();

test("stops the bird left running and removes its routes inside the pools only", async () => {
  const dp = await kernelWithBirdRoutes();
  const bird = new LeftBird(4242);
  const logs: string[] = [];
  const out = await retireBird(bird, dp, pools, (_l, msg) => logs.push(msg), true);
  expect(out).toEqual({ stopped: 4242, routesRemoved: 2 });
  expect(bird.calls).toEqual(["terminate 4242"]);
  const left = await dsts(dp);
  expect(left).not.toContain(`10.244.1.0/26 ${PROTO_BIRD}`);
  expect(left).not.toContain(`10.244.2.0/26 ${PROTO_BIRD}`);
  // outside the pools, broader than a pool, or not bird's: kept
  expect(left).toContain(`10.99.0.0/24 ${PROTO_BIRD}`);
  expect(left).toContain(`10.0.0.0/8 ${PROTO_BIRD}`);
  expect(left).toContain("10.244.3.0/26 201");
  expect(left.some((r) => r.startsWith("10.244.4.0/26"))).toBe(true);
  expect(logs.some((m) => m.includes("still running; stopping it"))).toBe(true);
});

test("a node where tartan's bird never ran: nothing read, nothing removed", async () => {
  const dp = await kernelWithBirdRoutes();
  const before = await dsts(dp);
  const out = await retireBird(new LeftBird(undefined), dp, pools, () => {}, false);
  expect(out).toEqual({ routesRemoved: 0 });
  expect(await dsts(dp)).toEqual(before);
});

test("a bird that is gone but left its persist routes (killed): the routes still go", async () => {
  const dp = await kernelWithBirdRoutes();
  const out = await retireBird(new LeftBird(undefined), dp, pools, () => {}, true);
  expect(out).toEqual({ routesRemoved: 2 });
});

test("a bird that will not stop is reported, and its routes left to it (it would put them back)", async () => {
  const dp = await kernelWithBirdRoutes();
  const before = await dsts(dp);
  const logs: string[] = [];
  const out = await retireBird(
    new LeftBird(7, false),
    dp,
    pools,
    (level, msg) => logs.push(`${level} ${msg}`),
    true,
  );
  expect(out).toEqual({ routesRemoved: 0 });
  expect(logs).toContain("error bird did not stop; its sessions and routes stay");
  expect(await dsts(dp)).toEqual(before);
});

test("a bird of another network namespace (another lab node's, the host's) is left alone", async () => {
  const dp = await kernelWithBirdRoutes();
  const before = await dsts(dp);
  const bird = new LeftBird(99, true, false);
  const logs: string[] = [];
  const out = await retireBird(bird, dp, pools, (_l, msg) => logs.push(msg), true);
  expect(out).toEqual({ routesRemoved: 0 });
  expect(bird.calls).toEqual([]);
  expect(await dsts(dp)).toEqual(before);
  expect(logs[0]).toContain("another network namespace");
});
