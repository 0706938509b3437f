// The outgoing-NAT manager on the fake: the IPPools of the datastore decide (not the agent's
// config), nothing is written twice for the same pools, a pool change applies by itself once the
// agent's first apply ran, a failed write is retried, and invalid pools never reach nft.
import { describe, expect, test } from "bun:test";
import type { ManagerContext } from "../../src/agent/manager.ts";
import { NatManager } from "../../src/agent/nat-manager.ts";
import { formatGetTable } from "../../src/cli/format-objects.ts";
import { resourceKind } from "../../src/cli/resource-kind.ts";
import type { NetnsRef } from "../../src/dataplane/dataplane.ts";
import type { NftTable } from "../../src/dataplane/nft-table.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";
import { type IPPoolResource, KINDS } from "../../src/model/cluster-resources.ts";
import { TARTAN_API_VERSION } from "../../src/model/resource.ts";
import { NAT_OUTGOING, renderNatOutgoing } from "../../src/render/nat-outgoing-nft.ts";
import { eventually } from "../harness/eventually.ts";

class RecordingNft implements NftTable {
  scripts: string[] = [];
  fail = 0;
  async apply(_n: NetnsRef, script: string) {
    if (this.fail > 0) {
      this.fail--;
      throw new Error("nft: refused");
    }
    this.scripts.push(script);
  }
  async list() {
    return undefined;
  }
}

const pool = (name: string, cidr: string, natOutgoing?: boolean): IPPoolResource => ({
  apiVersion: TARTAN_API_VERSION,
  kind: KINDS.ipPool,
  metadata: { name },
  spec: {
    cidr,
    blockSize: cidr.includes(":") ? 122 : 26,
    ...(natOutgoing !== undefined ? { natOutgoing } : {}),
  },
});

function manager(ds: MemoryDatastore, nft: RecordingNft) {
  const logs: string[] = [];
  const ctx = {
    ds,
    log: (level: string, msg: string) => logs.push(`${level} ${msg}`),
    mirrorOptions: () => ({ onError: () => {} }),
  } as unknown as ManagerContext;
  return { m: new NatManager(nft, ctx), logs };
}

describe("NatManager", () => {
  test("the datastore's pools decide; the same pools are not written twice; changes apply by themselves", async () => {
    const ds = new MemoryDatastore();
    await ds.create(pool("v4", "10.244.0.0/16", true));
    await ds.create(pool("other", "10.99.0.0/16"));
    const nft = new RecordingNft();
    const { m } = manager(ds, nft);
    expect(m.inSync).toBe(false);
    await Promise.all(m.mirrors.map((x) => x.start()));
    expect(m.inSync).toBe(true);
    expect(await m.apply()).toEqual({ changes: 1 });
    expect(nft.scripts).toEqual([
      renderNatOutgoing([
        { cidr: "10.244.0.0/16", natOutgoing: true },
        { cidr: "10.99.0.0/16", natOutgoing: false },
      ]),
    ]);
    // Both pools are "inside": only 10.244/16 is translated, and never towards 10.99/16.
    expect(nft.scripts[0]).toContain(`add element inet tartan ${NAT_OUTGOING.from[4]} { 10.244.0.0/16 }`);
    expect(nft.scripts[0]).toContain(
      `add element inet tartan ${NAT_OUTGOING.pools[4]} { 10.244.0.0/16, 10.99.0.0/16 }`,
    );
    m.resync();
    expect(await m.apply()).toEqual({ changes: 1 }); // a resync rewrites (drift repair)
    expect(await m.apply()).toBeUndefined(); // nothing marked: no I/O
    // A pool turned off: written without the agent asking.
    const v4 = (await ds.get(KINDS.ipPool, "v4")) as IPPoolResource;
    await ds.update({ ...v4, spec: { ...v4.spec, natOutgoing: false } });
    await eventually(
      "the chain removed",
      () => nft.scripts.at(-1)?.includes(`delete chain inet tartan ${NAT_OUTGOING.chain}`),
      {
        timeoutMs: 2000,
        intervalMs: 5,
      },
    );
    expect(nft.scripts.length).toBe(3);
    for (const x of m.mirrors) x.stop();
    await m.stop();
  });

  test("a refused write is retried on the next apply; an invalid pool never reaches nft", async () => {
    const ds = new MemoryDatastore();
    await ds.create(pool("v6", "fd44::/48", true));
    const bad = {
      ...pool("bad", "10.1.0.0/16"),
      spec: { cidr: "10.1.0.0/16", blockSize: 26, natOutgoing: "yes" },
    };
    await ds.create(bad as unknown as IPPoolResource).catch(() => {});
    const nft = new RecordingNft();
    const { m } = manager(ds, nft);
    await Promise.all(m.mirrors.map((x) => x.start()));
    nft.fail = 1;
    await expect(m.apply()).rejects.toThrow("nft: refused");
    expect(await m.apply()).toEqual({ changes: 1 });
    expect(nft.scripts).toEqual([renderNatOutgoing([{ cidr: "fd44::/48", natOutgoing: true }])]);
    expect(nft.scripts[0]).toContain("ip6 saddr @nat-from6 ip6 daddr != @nat-pools6 masquerade");
    for (const x of m.mirrors) x.stop();
    await m.stop();
  });

  test("tartan get ippools shows the flag", () => {
    const text = formatGetTable(
      {
        kind: resourceKind("ippools", { readable: true }),
        single: false,
        allNamespaces: false,
        items: [pool("a", "10.244.0.0/16", true), pool("b", "10.99.0.0/16")],
      },
      0,
    );
    expect(text.split("\n")[0]).toContain("NAT-OUTGOING");
    expect(text).toMatch(/a\s+10\.244\.0\.0\/16\s+26\s+true/);
    expect(text).toMatch(/b\s+10\.99\.0\.0\/16\s+26\s+false/);
  });
});
