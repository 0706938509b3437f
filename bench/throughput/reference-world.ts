// The reference: the same paths as a tartan lab, built by hand with plain `ip` commands in
// namespaces of our own (tt-t-* through the test harness, removed at cleanup). Layout copied from
// the lab (src/lab/underlay-plan.ts): a fabric namespace with one bridge per underlay subnet
// (routing between them), node i on subnet (i-1) mod subnets at 198.18.<s>.<10+i> behind a veth
// `eth0`; pods as routed /32 veths (link-local gateway 169.254.1.1 answered by the host veth,
// static neighbours, a /32 route on the node), each node's block a /26 with a blackhole; between
// nodes either host-gw routes (block via peer dev eth0) or a kernel VXLAN device with a permanent
// neighbour, a static FDB entry and an onlink block route, as tartan programs them.
import { run } from "../../src/exec/run.ts";
import { createNetns } from "../../test/harness/netns.ts";

export interface ReferenceSpec {
  label: string;
  nodes: number;
  subnets: 1 | 2;
  underlayMtu: number;
  podMtu: number;
  vxlanMtu: number;
  pods: { name: string; node: number }[];
  /** Node pairs (1-based) and how each reaches the other's block. */
  links: { a: number; b: number; kind: "host-gw" | "vxlan" }[];
}

export interface RefPod {
  netns: string;
  ip: string;
}

const GATEWAY = "169.254.1.1";
const HOST_MAC = "ee:ee:ee:ee:ee:ee";
const hex2 = (n: number) => n.toString(16).padStart(2, "0");

async function batch(netns: string, lines: string[], tool = "ip"): Promise<void> {
  if (lines.length) await run([tool, "-n", netns, "-batch", "-"], { stdin: `${lines.join("\n")}\n` });
}

async function sysctl(netns: string, ...kv: string[]): Promise<void> {
  await run(["ip", "netns", "exec", netns, "sysctl", "-qw", ...kv]);
}

/** Builds the hand-made cluster; everything lives in namespaces the harness removes. */
export async function buildReference(
  s: ReferenceSpec,
): Promise<{ pods: Map<string, RefPod>; nodeNetns: string[] }> {
  const fabric = (await createNetns(`${s.label}f`)).name;
  const nodes: { ns: string; addr: string; mac: string; vxlan: boolean }[] = [];
  const fabricLines: string[] = [];
  for (let b = 0; b < s.subnets; b++) {
    fabricLines.push(
      `link add br${b} type bridge`,
      `link set br${b} mtu ${s.underlayMtu} up`,
      `addr add 198.18.${b}.1/24 dev br${b}`,
    );
  }
  for (let i = 1; i <= s.nodes; i++) {
    const ns = (await createNetns(`${s.label}n${i}`)).name;
    const sub = (i - 1) % s.subnets;
    nodes.push({
      ns,
      addr: `198.18.${sub}.${10 + i}`,
      mac: `02:52:45:46:00:${hex2(i)}`,
      vxlan: s.links.some((l) => l.kind === "vxlan" && (l.a === i || l.b === i)),
    });
    fabricLines.push(
      `link add nd${i} mtu ${s.underlayMtu} type veth peer name eth0 netns ${ns}`,
      `link set nd${i} master br${sub} up`,
    );
  }
  await batch(fabric, fabricLines);
  await sysctl(fabric, "net.ipv4.ip_forward=1");

  const nodeLines = nodes.map((n, k) => {
    const i = k + 1;
    const lines = [
      `addr add ${n.addr}/24 dev eth0`,
      "link set eth0 up",
      `route add default via 198.18.${(i - 1) % s.subnets}.1 dev eth0`,
      `route add blackhole 10.99.${i}.0/26`,
    ];
    if (n.vxlan) {
      lines.push(
        `link add vx0 address ${n.mac} type vxlan id 4096 local ${n.addr} dev eth0 dstport 4789 nolearning`,
        `link set vx0 mtu ${s.vxlanMtu} up`,
      );
    }
    return lines;
  });
  const fdb: string[][] = nodes.map(() => []);
  for (const l of s.links) {
    for (const [from, to] of [
      [l.a, l.b],
      [l.b, l.a],
    ] as const) {
      const peer = nodes[to - 1]!;
      const lines = nodeLines[from - 1]!;
      if (l.kind === "host-gw") {
        lines.push(`route add 10.99.${to}.0/26 via ${peer.addr} dev eth0`);
      } else {
        lines.push(
          `neigh replace ${peer.addr} lladdr ${peer.mac} dev vx0 nud permanent`,
          `route add 10.99.${to}.0/26 via ${peer.addr} dev vx0 onlink`,
        );
        fdb[from - 1]!.push(`fdb append ${peer.mac} dev vx0 dst ${peer.addr} self permanent`);
      }
    }
  }

  const pods = new Map<string, RefPod>();
  const perNode = new Map<number, number>();
  const podBatches: [string, string[]][] = [];
  const sysctls: [string, string[]][] = [];
  for (const p of s.pods) {
    const j = (perNode.get(p.node) ?? 0) + 1;
    perNode.set(p.node, j);
    const ns = (await createNetns(`${s.label}p`)).name;
    const ip = `10.99.${p.node}.${1 + j}`;
    const podMac = `02:52:45:50:${hex2(p.node)}:${hex2(j)}`;
    const hostIf = `vp${j}`;
    nodeLines[p.node - 1]!.push(
      `link add ${hostIf} mtu ${s.podMtu} address ${HOST_MAC} type veth peer name eth0 mtu ${s.podMtu} address ${podMac} netns ${ns}`,
      `link set ${hostIf} up`,
      `route add ${ip}/32 dev ${hostIf} scope link`,
      `neigh replace ${ip} lladdr ${podMac} dev ${hostIf} nud permanent`,
    );
    sysctls.push([
      nodes[p.node - 1]!.ns,
      [`net.ipv4.conf.${hostIf}.proxy_arp=1`, `net.ipv4.neigh.${hostIf}.proxy_delay=0`],
    ]);
    podBatches.push([
      ns,
      [
        `addr add ${ip}/32 dev eth0`,
        "link set eth0 up",
        `route add ${GATEWAY}/32 dev eth0 scope link`,
        `neigh replace ${GATEWAY} lladdr ${HOST_MAC} dev eth0 nud permanent`,
        `route add default via ${GATEWAY} dev eth0`,
      ],
    ]);
    pods.set(p.name, { netns: ns, ip });
  }
  for (let k = 0; k < nodes.length; k++) {
    await batch(nodes[k]!.ns, nodeLines[k]!);
    await batch(nodes[k]!.ns, fdb[k]!, "bridge");
    await sysctl(nodes[k]!.ns, "net.ipv4.ip_forward=1");
  }
  for (const [ns, kv] of sysctls) await sysctl(ns, ...kv);
  for (const [ns, lines] of podBatches) await batch(ns, lines);
  return { pods, nodeNetns: nodes.map((n) => n.ns) };
}

/** Two namespaces joined by one veth pair: the floor of any pod-to-pod path on one machine. */
export async function buildDirectVeth(
  label: string,
  mtu: number,
): Promise<{ client: RefPod; server: RefPod }> {
  const a = (await createNetns(`${label}a`)).name;
  const b = (await createNetns(`${label}b`)).name;
  await batch(a, [
    `link add eth0 mtu ${mtu} type veth peer name eth0 mtu ${mtu} netns ${b}`,
    "addr add 10.98.0.1/24 dev eth0",
    "link set eth0 up",
  ]);
  await batch(b, ["addr add 10.98.0.2/24 dev eth0", "link set eth0 up"]);
  return { client: { netns: a, ip: "10.98.0.1" }, server: { netns: b, ip: "10.98.0.2" } };
}
