// Outgoing NAT (natOutgoing on IPPools) on the real kernel, in tt-t-* namespaces only: a "node"
// namespace routes between a pod (10.244.0.2, in the pool), another pod of the pool on a second
// link (10.244.1.2) and an outside host (203.0.113.2, in no pool). The outside host must see the
// node's address; the other pod must see the pod's own address; with natOutgoing off, or the
// chain removed, the outside host sees the pod's address again. The table's other chains stay.
import { afterAll, describe, expect, test } from "bun:test";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import { renderMasqueradeAdd } from "../../src/render/masquerade-nft.ts";
import { NAT_OUTGOING, renderNatOutgoing } from "../../src/render/nat-outgoing-nft.ts";
import { cleanupAllNetns, createNetns, isRoot, type TestNetns, vethBetween } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

const nft = new LinuxNft();
const POOLS = ["10.244.0.0/16", "fd44::/48"];

/** The source address a TCP server in `server` sees for a connection from `client`. */
async function sourceSeen(server: TestNetns, client: TestNetns, ip: string, port: number): Promise<string> {
  const srv = Bun.spawn(
    [
      "ip",
      "netns",
      "exec",
      server.name,
      process.execPath,
      "-e",
      `const s=require('node:net').createServer(c=>c.end(c.remoteAddress+'\\n',()=>s.close()));s.listen(${port},'0.0.0.0')`,
    ],
    { stdout: "ignore", stderr: "inherit" },
  );
  try {
    const r = await client.exec([
      process.execPath,
      `${import.meta.dir}/../fixtures/tcp-once.ts`,
      "client",
      ip,
      String(port),
    ]);
    return r.stdout.trim().replace(/^::ffff:/, "");
  } finally {
    srv.kill();
    await srv.exited;
  }
}

describe.skipIf(!isRoot)("outgoing NAT on the real kernel", () => {
  test("pool → outside is masqueraded, pool → pool is not; off and removed restore the pod's address", async () => {
    const node = await createNetns("natn");
    const pod = await createNetns("natp");
    const pod2 = await createNetns("natq");
    const out = await createNetns("nato");
    await vethBetween("eth0", { ns: pod, cidr: "10.244.0.2/24" }, { ns: node, cidr: "10.244.0.1/24" });
    await vethBetween("eth1", { ns: pod2, cidr: "10.244.1.2/24" }, { ns: node, cidr: "10.244.1.1/24" });
    await vethBetween("up0", { ns: out, cidr: "203.0.113.2/24" }, { ns: node, cidr: "203.0.113.1/24" });
    await pod.exec(["ip", "route", "add", "default", "via", "10.244.0.1"]);
    await pod2.exec(["ip", "route", "add", "default", "via", "10.244.1.1"]);
    // The outside host has no route back to the pool: only a translated packet can be answered.
    await node.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    // Another network's ipMasq chain in the same table must survive every NAT rewrite.
    await nft.apply(node.path, renderMasqueradeAdd({ network: "other", subnets: ["10.99.0.0/24"] }));

    await nft.apply(node.path, renderNatOutgoing(POOLS.map((cidr) => ({ cidr, natOutgoing: true }))));
    expect(await sourceSeen(out, pod, "203.0.113.2", 9301)).toBe("203.0.113.1");
    expect(await sourceSeen(pod2, pod, "10.244.1.2", 9302)).toBe("10.244.0.2");
    // Idempotent: the same script again leaves one rule per family.
    await nft.apply(node.path, renderNatOutgoing(POOLS.map((cidr) => ({ cidr, natOutgoing: true }))));
    const listed = (await nft.list(node.path, "inet", "tartan")) ?? "";
    expect(listed.match(/tartan natOutgoing/g)?.length).toBe(2);
    expect(listed).toContain("masq-other");

    // natOutgoing off for 10.244/16 (the v6 pool keeps it): the outside host sees the pod, so
    // with no route back nothing answers; give it a route to check the source it sees.
    await nft.apply(
      node.path,
      renderNatOutgoing([
        { cidr: POOLS[0]!, natOutgoing: false },
        { cidr: POOLS[1]!, natOutgoing: true },
      ]),
    );
    await out.exec(["ip", "route", "add", "10.244.0.0/16", "via", "203.0.113.1"]);
    expect(await sourceSeen(out, pod, "203.0.113.2", 9303)).toBe("10.244.0.2");

    // No natOutgoing pool at all: chain and sets gone, the rest of the table stays.
    await nft.apply(node.path, renderNatOutgoing(POOLS.map((cidr) => ({ cidr, natOutgoing: false }))));
    const after = (await nft.list(node.path, "inet", "tartan")) ?? "";
    expect(after).not.toContain(NAT_OUTGOING.chain);
    expect(after).not.toContain(NAT_OUTGOING.from[4]);
    expect(after).toContain("masq-other");
    expect(await sourceSeen(out, pod, "203.0.113.2", 9304)).toBe("10.244.0.2");
  }, 60_000);
});
