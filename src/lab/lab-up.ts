import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { isBgpBackend, type RoutingBackendName } from "../model/routing-backend.ts";
import { type LabAgentTuning, labAgentConfig } from "./lab-agent-config.ts";
import { LAB_RR_CLUSTER_ID, labBgpObjects } from "./lab-bgp-objects.ts";
import { labDown } from "./lab-down.ts";
import { labObjectsCli } from "./lab-objects-cli.ts";
import { labPaths } from "./lab-paths.ts";
import type { LabNode, LabState } from "./lab-state.ts";
import { nodeNetConf } from "./node-netconf.ts";
import type { Progress } from "./progress.ts";
import { startAgent } from "./start-agent.ts";
import { startEtcd } from "./start-etcd.ts";
import { startKubeApi } from "./start-kube-api.ts";
import { startTor } from "./start-tor.ts";
import { tartanExecutable } from "./tartan-executable.ts";
import { LAB_OUTSIDE, planTor } from "./tor-plan.ts";
import { planUnderlay } from "./underlay-plan.ts";
import { updateLabState } from "./update-lab-state.ts";
import { waitBgpSessions } from "./wait-bgp-sessions.ts";

/** How long `lab up` waits for BGP sessions before returning with a note instead. */
const BGP_SESSIONS_TIMEOUT_MS = 30_000;

export interface LabUpOptions {
  name: string;
  nodes: number;
  backend: RoutingBackendName;
  subnets: number;
  /** Start an agent on every node (default); without, nodes have pods but no routes to each other. */
  agents?: boolean;
  /** Dual-stack pods: an IPv6 pool besides the IPv4 one (the underlay stays IPv4). */
  ipv6?: boolean;
  /** Agent timings (heartbeat, dead-node graces) written into every node's agent config. */
  agentTuning?: LabAgentTuning;
  /** etcd over plain HTTP without client certificates (default: TLS + client certs, decision 0013). */
  insecureEtcd?: boolean;
  /**
   * `kubernetes`: the lab's stand-in Kubernetes API server on its etcd, and agents in Kubernetes
   * mode (their datastore is the API; issue 8). Default `etcd`: agents use etcd directly.
   */
  datastore?: "etcd" | "kubernetes";
  /** `--tor`: an FRR top-of-rack router in the fabric peered with every node, and an outside host. */
  tor?: { asNumber: number; password?: string };
  /** `--block-size N`: the IPv4 pool's block size (default 26): small blocks make new blocks often. */
  blockSize?: number;
  /** `--route-reflectors N`: nodes 1..N are route reflectors, the node-to-node mesh is off. */
  routeReflectors?: number;
}

export const LAB_NETWORK = "tartan-lab";
export const LAB_POD_CIDR = "10.244.0.0/16";
export const LAB_POD_CIDR6 = "fd00:10:244::/56";

async function sysctl(netns: string, kv: string): Promise<void> {
  await run(["ip", "netns", "exec", netns, "sysctl", "-qw", kv]);
}

/** BGP-only options (`--tor`, `--route-reflectors`) refused where they cannot work. */
function checkBgpOptions(o: LabUpOptions): void {
  const bgp = isBgpBackend(o.backend);
  if (o.tor && !bgp) {
    throw new TartanError(
      "lab-usage",
      `--tor needs a BGP backend (the ToR learns the pod blocks over BGP), not ${o.backend}`,
      "add --backend bgp",
    );
  }
  if (o.routeReflectors !== undefined && o.routeReflectors > 0) {
    if (!bgp) {
      throw new TartanError(
        "lab-usage",
        `--route-reflectors needs a BGP backend, not ${o.backend}`,
        "add --backend bgp",
      );
    }
    if (o.routeReflectors >= o.nodes) {
      throw new TartanError(
        "lab-usage",
        `--route-reflectors ${o.routeReflectors} leaves no client among ${o.nodes} nodes`,
        "use fewer reflectors than --nodes",
      );
    }
  }
}

/**
 * `tartan lab up`: a whole cluster in network namespaces. Everything it creates is recorded in
 * lab.json before or as it is created, and any failure tears the partial lab down again.
 */
export async function labUp(o: LabUpOptions, progress: Progress): Promise<LabState> {
  const paths = labPaths(o.name);
  const tartan = tartanExecutable();
  if (!existsSync(tartan)) {
    throw new TartanError("lab-no-binary", `${tartan} does not exist`, "build it: npm run build");
  }
  if (o.backend === "host-gw" && o.subnets > 1) {
    throw new TartanError(
      "lab-usage",
      "host-gw needs every node on one subnet (its routes point at peers directly)",
      "use --backend cross-subnet with --subnets 2",
    );
  }
  checkBgpOptions(o);
  if (existsSync(`/run/netns/${paths.fabricNetns}`)) {
    throw new TartanError(
      "lab-exists",
      `lab "${o.name}" is already up (namespace ${paths.fabricNetns} exists)`,
      `tear it down first: tartan lab down --lab ${o.name}, or pick another --lab`,
    );
  }
  const bgp = isBgpBackend(o.backend);
  // BGP needs an IPv6 next hop for IPv6 blocks: an IPv6 underlay beside the IPv4 one.
  const plan = planUnderlay(paths.nodeNetns, o.nodes, o.subnets, bgp && o.ipv6 === true);
  const tor = o.tor
    ? planTor({
        fabricNetns: paths.fabricNetns,
        outsideNetns: paths.outsideNetns,
        dir: paths.torDir,
        bridges: plan.bridges,
        asNumber: o.tor.asNumber,
        ...(o.tor.password ? { password: o.tor.password } : {}),
      })
    : undefined;
  const nodes: LabNode[] = plan.nodes.map((n) => ({
    name: n.name,
    index: n.index,
    netns: n.netns,
    underlayAddress: n.address,
    underlaySubnet: n.subnet,
    ...(n.address6 ? { underlayAddress6: n.address6 } : {}),
    gateway: n.gateway,
    bridge: n.bridge,
    fabricPort: n.fabricPort,
    dir: paths.nodeDir(n.name),
    netconfFile: `${paths.nodeDir(n.name)}/cni.json`,
  }));
  await updateLabState(paths, (s) => {
    if (s) {
      throw new TartanError(
        "lab-exists",
        `lab "${o.name}" already has a state file ${paths.stateFile}`,
        `tear it down first: tartan lab down --lab ${o.name}`,
      );
    }
    return {
      version: 1,
      name: o.name,
      backend: o.backend,
      subnets: o.subnets,
      dir: paths.dir,
      createdAt: new Date().toISOString(),
      tartan,
      podCidr: LAB_POD_CIDR,
      ...(o.ipv6 ? { podCidr6: LAB_POD_CIDR6 } : {}),
      network: LAB_NETWORK,
      fabric: { netns: paths.fabricNetns, bridges: plan.bridges },
      nodes,
      pods: [],
      ...(o.agentTuning ? { agentTuning: o.agentTuning } : {}),
      ...(o.datastore === "kubernetes" ? { datastore: "kubernetes" as const } : {}),
      ...(o.blockSize ? { blockSize: o.blockSize } : {}),
      ...(tor
        ? {
            tor: {
              asNumber: tor.asNumber,
              peerIP: tor.peerIP,
              dir: tor.dir,
              ...(o.tor?.password ? { password: o.tor.password } : {}),
            },
            outside: {
              netns: paths.outsideNetns,
              address: LAB_OUTSIDE.address,
              address6: LAB_OUTSIDE.address6,
            },
          }
        : {}),
    };
  });

  try {
    await progress.step(
      "namespaces",
      async () => {
        for (const ns of [
          paths.fabricNetns,
          ...(tor ? [paths.outsideNetns] : []),
          ...nodes.map((n) => n.netns),
        ])
          await run(["ip", "netns", "add", ns]);
      },
      () =>
        `${paths.fabricNetns}, ${tor ? `${paths.outsideNetns}, ` : ""}${nodes.map((n) => n.netns).join(", ")}`,
    );
    await progress.step(
      "underlay",
      async () => {
        await run(["ip", "-n", paths.fabricNetns, "-batch", "-"], {
          stdin: `${["link set lo up", ...plan.fabricLines, ...(tor?.fabricLines ?? [])].join("\n")}\n`,
        });
        // The fabric routes between the two subnets; nodes route their pods' traffic.
        await sysctl(paths.fabricNetns, "net.ipv4.ip_forward=1");
        // The ToR routes the outside host's traffic to the pods, IPv6 too.
        if (tor || plan.bridges[0]?.cidr6) await sysctl(paths.fabricNetns, "net.ipv6.conf.all.forwarding=1");
        if (tor) {
          await run(["ip", "-n", paths.outsideNetns, "-batch", "-"], {
            stdin: `${tor.outsideLines.join("\n")}\n`,
          });
        }
        await Promise.all(
          plan.nodes.map(async (n) => {
            await run(["ip", "-n", n.netns, "-batch", "-"], { stdin: `${n.nodeLines.join("\n")}\n` });
            await sysctl(n.netns, "net.ipv4.ip_forward=1");
            if (n.address6) await sysctl(n.netns, "net.ipv6.conf.all.forwarding=1");
          }),
        );
      },
      () =>
        `${plan.bridges.map((b) => `${b.name} ${b.cidr}`).join(", ")}; ` +
        nodes.map((n) => `${n.name} ${n.underlayAddress}`).join(", "),
    );
    const etcd = await progress.step(
      "etcd",
      () =>
        startEtcd(paths, plan.bridges[0]!.gateway, tartan, !o.insecureEtcd, async (proc) => {
          await updateLabState(paths, (s) => ({ ...s!, etcd: proc }));
        }),
      (e) =>
        `${e.endpoint} in ${paths.fabricNetns}, pid ${e.pid}${e.tls ? `, client certificates of ${e.tls.caFile}` : " (no TLS)"}`,
    );
    const kubeApi =
      o.datastore === "kubernetes"
        ? await progress.step(
            "kube-apiserver",
            () =>
              startKubeApi(paths, plan.bridges[0]!.gateway, tartan, etcd, async (proc) => {
                await updateLabState(paths, (s) => ({ ...s!, kubeApi: proc }));
              }),
            (k) => `${k.url} in ${paths.fabricNetns}, pid ${k.pid}; kubeconfig ${k.kubeconfig}`,
          )
        : undefined;
    if (tor) {
      await progress.step(
        "top-of-rack router (FRR)",
        () =>
          startTor(paths.fabricNetns, tor, async (daemon, proc) => {
            await updateLabState(paths, (s) => ({ ...s!, tor: { ...s!.tor!, [daemon]: proc } }));
          }),
        (t) =>
          `zebra pid ${t.zebra.pid}, bgpd pid ${t.bgpd.pid} in ${paths.fabricNetns}, AS ${tor.asNumber} on ${tor.peerIP}; ` +
          `outside host ${LAB_OUTSIDE.address} in ${paths.outsideNetns}`,
      );
    }
    const bgpObjects = labBgpObjects({
      ...(o.routeReflectors ? { routeReflectors: o.routeReflectors } : {}),
      ...(tor
        ? {
            tor: {
              peerIP: tor.peerIP,
              asNumber: tor.asNumber,
              ...(o.tor?.password ? { password: o.tor.password } : {}),
            },
          }
        : {}),
    });
    if (bgpObjects.length > 0) {
      await progress.step(
        "BGP objects",
        async () => {
          const state = await updateLabState(paths, (s) => s!);
          await labObjectsCli(
            state,
            ["apply", "-f", "-"],
            bgpObjects.map((x) => JSON.stringify(x)).join("\n---\n"),
          );
        },
        () => bgpObjects.map((x) => `${x.kind}/${(x.metadata as { name: string }).name}`).join(", "),
      );
    }
    const withAgent = o.agents !== false;
    for (const n of nodes) {
      mkdirSync(n.dir, { recursive: true, mode: 0o700 });
      const netconf = nodeNetConf({
        network: LAB_NETWORK,
        backend: o.backend,
        nodeIndex: n.index,
        nodeDir: n.dir,
        withAgent,
      });
      writeFileSync(n.netconfFile, `${JSON.stringify(netconf, null, 2)}\n`);
    }
    if (!withAgent) {
      progress.note("--no-agents: nodes run without agents (no routes between nodes)");
    } else {
      await progress.step(
        `agents (${o.backend})`,
        () =>
          Promise.all(
            nodes.map(async (n) => {
              n.agentConfigFile = `${n.dir}/agent.json`;
              const config = labAgentConfig({
                nodeName: n.name,
                nodeDir: n.dir,
                etcdEndpoint: etcd.endpoint,
                ...(etcd.tls ? { etcdTls: etcd.tls } : {}),
                backend: o.backend,
                network: LAB_NETWORK,
                podCidr: LAB_POD_CIDR,
                ...(o.ipv6 ? { podCidr6: LAB_POD_CIDR6 } : {}),
                ...(o.agentTuning ? { tuning: o.agentTuning } : {}),
                ...(kubeApi ? { kubeconfig: kubeApi.kubeconfig } : {}),
                ...(o.blockSize ? { blockSize: o.blockSize } : {}),
                ...(o.routeReflectors && n.index <= o.routeReflectors
                  ? { bgp: { routeReflectorClusterID: LAB_RR_CLUSTER_ID } }
                  : {}),
              });
              writeFileSync(n.agentConfigFile, `${JSON.stringify(config, null, 2)}\n`);
              await startAgent(tartan, n, async (proc) => {
                await updateLabState(paths, (s) => ({
                  ...s!,
                  nodes: s!.nodes.map((x) =>
                    x.name === n.name ? { ...x, agent: proc, agentConfigFile: n.agentConfigFile } : x,
                  ),
                }));
              });
            }),
          ),
        () => `${nodes.length} ready`,
      );
      if (bgp) {
        const waiting = await progress.step(
          "BGP sessions",
          () => waitBgpSessions(nodes, BGP_SESSIONS_TIMEOUT_MS),
          (w) => (w.length === 0 ? "every session established" : `${w.length} node(s) not established`),
        );
        for (const w of waiting) progress.note(`BGP not established yet: ${w} (see tartan bgp status)`);
      }
    }
  } catch (e) {
    await labDown(o.name);
    throw e;
  }
  return await updateLabState(paths, (s) => s!);
}
