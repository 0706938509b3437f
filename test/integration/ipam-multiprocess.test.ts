import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteIpamStore } from "../../src/datastore/local/sqlite-ipam-store.ts";
import { parseIpamConfig } from "../../src/ipam/ipam-config.ts";
import { rangeOf } from "../../src/ipam/range-set.ts";
import { formatIp, parseIp } from "../../src/model/ip.ts";
import { FIXTURE_NETCONF } from "../fixtures/ipam-alloc-loop.ts";

// Real processes against one database file: the property under test is the one a node depends
// on, that concurrent plugin processes never hand out one address twice, and that kill -9 at any
// moment leaves each allocation complete or absent. No root needed.

const FIXTURE = join(import.meta.dir, "../fixtures/ipam-alloc-loop.ts");
const root = mkdtempSync(join(tmpdir(), "tartan-ipam-mp-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const spawnWorker = (dataDir: string, worker: number, count: number) =>
  Bun.spawn([process.execPath, FIXTURE, dataDir, String(worker), String(count)], {
    stdout: "pipe",
    stderr: "pipe",
  });

test("16 concurrent processes on a fresh dataDir never hand out an address twice", async () => {
  const dataDir = join(root, "concurrent");
  const workers = 16;
  const perWorker = 40;
  const procs = Array.from({ length: workers }, (_, w) => spawnWorker(dataDir, w, perWorker));
  const outputs = await Promise.all(
    procs.map(async (p) => {
      const [out, err, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      expect(err).toBe("");
      expect(code).toBe(0);
      return out.split("\n").filter((l) => l !== "");
    }),
  );
  const all = outputs.flat();
  expect(all).toHaveLength(workers * perWorker * 2);
  expect(new Set(all).size).toBe(all.length);

  const store = openSqliteIpamStore(dataDir);
  const rows = store.transaction((tx) => tx.allocations("stress"));
  store.close();
  expect(rows).toHaveLength(all.length);
  expect(new Set(rows.map((r) => r.ip))).toEqual(new Set(all));
}, 60_000);

test("kill -9 during allocation loops leaves a sound file and only complete allocations", async () => {
  const dataDir = join(root, "crash");
  const { network, rangeSets } = parseIpamConfig(FIXTURE_NETCONF);
  let killed = 0;
  for (let round = 0; round < 4; round++) {
    const procs = Array.from({ length: 8 }, (_, w) => spawnWorker(dataDir, round * 100 + w, 0));
    // Let each get going (process start + its first committed ADD, which it prints: on a loaded
    // machine a fixed sleep ended them before they had written anything), then kill each at a
    // different moment.
    await Promise.all(
      procs.map(async (p) => {
        const reader = p.stdout.getReader();
        const first = await Promise.race([reader.read(), Bun.sleep(30_000).then(() => undefined)]);
        if (!first || first.done) throw new Error("a worker committed no allocation within 30 s");
        reader.releaseLock();
      }),
    );
    for (const p of procs) {
      await Bun.sleep(Math.floor(Math.random() * 15));
      p.kill(9);
    }
    for (const p of procs) {
      await p.exited;
      if (p.signalCode === "SIGKILL") killed++;
    }
  }
  expect(killed).toBeGreaterThan(0);

  const store = openSqliteIpamStore(dataDir);
  expect(store.integrityCheck()).toEqual(["ok"]);
  const { rows, attachments } = store.transaction((tx) => ({
    rows: tx.allocations(network),
    attachments: tx.attachments(network),
  }));
  store.close();
  expect(rows.length).toBeGreaterThan(0);

  // Every row is complete and consistent with the config.
  const byOwner = new Map<string, string[]>();
  for (const r of rows) {
    expect(r.network).toBe(network);
    expect(r.containerId).toMatch(/^w\d+-c\d+$/);
    expect(r.ifname).toBe("eth0");
    const ip = parseIp(r.ip);
    expect(formatIp(ip)).toBe(r.ip);
    const set = rangeSets.find((s) => rangeOf(s, ip));
    expect(set && rangeOf(set, ip)?.key).toBe(r.rangeKey);
    byOwner.set(r.containerId, [...(byOwner.get(r.containerId) ?? []), r.ip]);
  }
  // Each ADD was one transaction (IPv4 + IPv6 + attachment): an owner holds all of it or nothing.
  for (const [owner, ips] of byOwner) {
    expect([owner, ips.length]).toEqual([owner, 2]);
  }
  expect(attachments.map((a) => a.containerId).sort()).toEqual([...byOwner.keys()].sort());
}, 60_000);
