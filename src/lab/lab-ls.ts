import { existsSync } from "node:fs";
import { AgentClient } from "../api/agent-client.ts";
import type { ClusterNodeStatus } from "../model/agent-api.ts";
import type { LabNode, LabProcess, LabState } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { requireLabState } from "./require-lab-state.ts";
import { type TorSummary, torVtyshJson } from "./tor-vtysh.ts";

export interface LabListing {
  name: string;
  backend: string;
  subnets: number;
  dir: string;
  etcd: { endpoint?: string; pid?: number; running: boolean };
  /** Kubernetes mode: the lab's stand-in API server and its kubeconfig. */
  kubeApi?: { url: string; pid: number; running: boolean; kubeconfig: string };
  nodes: {
    name: string;
    netns: string;
    underlayAddress: string;
    underlaySubnet: string;
    agentPid?: number;
    /** ready | agent not ready | agent stopped | no agent | namespace missing */
    state: string;
    /**
     * The cluster's view, from the datastore through a live agent (decision 0014): Ready,
     * NotReady (the reclaimer's reason), gone (no Node: reclaimed or removed), or "-" (no agent answered).
     */
    readiness: string;
    blocks?: string[];
  }[];
  /** `lab up --tor`: the ToR's daemons and its BGP sessions (from its own vtysh). */
  tor?: {
    netns: string;
    asNumber: number;
    peerIP: string;
    dir: string;
    zebraPid?: number;
    bgpdPid?: number;
    /** running | zebra stopped | bgpd stopped | stopped */
    state: string;
    /** One per node session: peer address, AS, BGP state, prefixes received. */
    sessions: { peer: string; asNumber: number; state: string; prefixesReceived: number }[];
  };
  outside?: { netns: string; address: string; address6: string; state: string };
  pods: {
    pod: string;
    node: string;
    ips: string[];
    netns: string;
    state: string;
    labels: Record<string, string>;
  }[];
}

async function nodeState(n: LabNode): Promise<string> {
  if (!existsSync(`/run/netns/${n.netns}`)) return "namespace missing";
  if (!n.agent) return "no agent";
  if (processStartTime(n.agent.pid) !== n.agent.startTime) return "agent stopped";
  return (await new AgentClient(`${n.dir}/agent.sock`).healthy(1000)) ? "ready" : "agent not ready";
}

/** The Nodes as the first live agent sees them in the datastore; undefined when none answers. */
async function clusterView(nodes: LabNode[]): Promise<ClusterNodeStatus[] | undefined> {
  for (const n of nodes) {
    if (!n.agent || processStartTime(n.agent.pid) !== n.agent.startTime) continue;
    try {
      const s = await new AgentClient(`${n.dir}/agent.sock`).get<{ clusterNodes?: ClusterNodeStatus[] }>(
        "/v1/status",
      );
      if (s.clusterNodes) return s.clusterNodes;
    } catch {
      // this agent does not answer: ask the next one
    }
  }
  return undefined;
}

const readiness = (view: ClusterNodeStatus[] | undefined, name: string): string => {
  if (!view) return "-";
  const c = view.find((x) => x.name === name);
  if (!c) return "gone";
  return c.ready ? "Ready" : `NotReady (${c.readyReason ?? "unknown"})`;
};

const alive = (p: LabProcess | undefined): boolean => Boolean(p && processStartTime(p.pid) === p.startTime);

async function torListing(state: LabState): Promise<LabListing["tor"]> {
  const tor = state.tor;
  if (!tor) return undefined;
  const z = alive(tor.zebra);
  const b = alive(tor.bgpd);
  let sessions: NonNullable<LabListing["tor"]>["sessions"] = [];
  if (b) {
    try {
      const sum = await torVtyshJson<TorSummary>(tor, "show bgp summary json", 3000);
      const seen = new Map<string, NonNullable<LabListing["tor"]>["sessions"][number]>();
      for (const fam of [sum.ipv4Unicast, sum.ipv6Unicast]) {
        for (const [peer, p] of Object.entries(fam?.peers ?? {})) {
          const prev = seen.get(peer);
          seen.set(peer, {
            peer,
            asNumber: p.remoteAs,
            state: p.state,
            prefixesReceived: (prev?.prefixesReceived ?? 0) + (p.pfxRcd ?? 0),
          });
        }
      }
      sessions = [...seen.values()];
    } catch {
      // bgpd does not answer: the state column says so
    }
  }
  return {
    netns: state.fabric.netns,
    asNumber: tor.asNumber,
    peerIP: tor.peerIP,
    dir: tor.dir,
    zebraPid: tor.zebra?.pid,
    bgpdPid: tor.bgpd?.pid,
    state: z && b ? "running" : z ? "bgpd stopped" : b ? "zebra stopped" : "stopped",
    sessions,
  };
}

/** `tartan lab ls`: the lab's nodes (underlay address, agent state) and pods (node, addresses). */
export async function labLs(name: string): Promise<LabListing> {
  const { state } = requireLabState(name);
  const view = await clusterView(state.nodes);
  const etcdRunning = state.etcd ? processStartTime(state.etcd.pid) === state.etcd.startTime : false;
  return {
    name: state.name,
    backend: state.backend,
    subnets: state.subnets,
    dir: state.dir,
    etcd: { endpoint: state.etcd?.endpoint, pid: state.etcd?.pid, running: etcdRunning },
    ...(state.kubeApi
      ? {
          kubeApi: {
            url: state.kubeApi.url,
            pid: state.kubeApi.pid,
            running: processStartTime(state.kubeApi.pid) === state.kubeApi.startTime,
            kubeconfig: state.kubeApi.kubeconfig,
          },
        }
      : {}),
    nodes: await Promise.all(
      state.nodes.map(async (n) => ({
        name: n.name,
        netns: n.netns,
        underlayAddress: n.underlayAddress,
        underlaySubnet: n.underlaySubnet,
        agentPid: n.agent?.pid,
        state: await nodeState(n),
        readiness: readiness(view, n.name),
        ...(view?.find((x) => x.name === n.name)
          ? { blocks: view.find((x) => x.name === n.name)!.blocks }
          : {}),
      })),
    ),
    ...(state.tor ? { tor: await torListing(state) } : {}),
    ...(state.outside
      ? {
          outside: {
            ...state.outside,
            state: existsSync(`/run/netns/${state.outside.netns}`) ? "ready" : "namespace missing",
          },
        }
      : {}),
    pods: state.pods.map((p) => ({
      pod: `${p.namespace}/${p.name}`,
      node: p.node,
      ips: p.ips,
      netns: p.netns,
      state: !existsSync(`/run/netns/${p.netns}`) ? "namespace missing" : p.state,
      labels: p.labels ?? {},
    })),
  };
}
