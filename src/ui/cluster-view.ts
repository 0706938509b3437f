import { AgentClient } from "../api/agent-client.ts";
import { type AgentRef, agentRefs } from "../cli/agent-refs.ts";
import { readLastMatrix } from "../lab/last-matrix.ts";
import { requireLabState } from "../lab/require-lab-state.ts";
import { AGENT_POLICY_PATH } from "../model/agent-api.ts";

/** One pod as the picture shows it. */
export interface ViewPod {
  namespace: string;
  name: string;
  ips: string[];
  /** Policies isolating it, per direction (absent: not isolated that way). */
  ingress?: string[];
  egress?: string[];
}

export interface ViewNode {
  name: string;
  underlay?: string;
  /** "ok", or why its agent could not be asked (its pods' isolation is then unknown). */
  agent: "ok" | "unreachable";
  problem?: string;
  pods: ViewPod[];
}

/** What GET /api/cluster answers: the cluster as the page draws it. */
export interface ClusterView {
  lab?: string;
  backend?: string;
  time: string;
  nodes: ViewNode[];
  matrix?: {
    time: string;
    cells: { from: string; to: string; ip: string; ping: boolean; tcp: boolean; error?: string }[];
  };
}

interface PolicyAnswer {
  node: string;
  pods: {
    namespace: string;
    name: string;
    ips: string[];
    ingress?: { policies: string[] };
    egress?: { policies: string[] };
  }[];
}

interface StatusAnswer {
  clusterNodes?: { name: string; underlayAddress: string }[];
}

/** Where the view's data comes from: a lab (its state and agents), or the agents at sockets. */
export interface ViewSource {
  lab?: string;
  agents: AgentRef[];
}

export function viewSource(lab: string | undefined, socket: string | undefined): ViewSource {
  const refs = agentRefs({ lab, socket, what: "tartan ui" }).refs;
  return { ...(lab ? { lab } : {}), agents: refs };
}

/**
 * The cluster now: in a lab, its nodes and every pod (lab state), with each agent's policy view
 * (which pods are isolated, by which policies) and the last matrix; otherwise the nodes the
 * agent knows and its isolated pods. An agent that does not answer leaves its node drawn, marked.
 */
export async function clusterView(src: ViewSource): Promise<ClusterView> {
  const answers = await Promise.all(
    src.agents.map(async (a) => {
      const client = new AgentClient(a.socket);
      try {
        return {
          a,
          policy: await client.get<PolicyAnswer>(AGENT_POLICY_PATH, `asking the agent of ${a.node}`),
        };
      } catch (e) {
        return { a, problem: e instanceof Error ? e.message : String(e) };
      }
    }),
  );
  const isolation = new Map<string, ViewPod>();
  for (const x of answers)
    for (const p of x.policy?.pods ?? [])
      isolation.set(`${p.namespace}/${p.name}`, {
        namespace: p.namespace,
        name: p.name,
        ips: p.ips,
        ...(p.ingress ? { ingress: p.ingress.policies } : {}),
        ...(p.egress ? { egress: p.egress.policies } : {}),
      });
  const time = new Date().toISOString();
  if (src.lab) {
    const { state } = requireLabState(src.lab);
    const last = readLastMatrix(src.lab);
    const nodes: ViewNode[] = state.nodes.map((n) => {
      const ans = answers.find((x) => x.a.node === n.name);
      return {
        name: n.name,
        underlay: n.underlayAddress,
        agent: ans?.policy ? "ok" : "unreachable",
        ...(ans?.problem ? { problem: ans.problem } : {}),
        pods: state.pods
          .filter((p) => p.node === n.name)
          .map((p) => {
            const iso = isolation.get(`${p.namespace}/${p.name}`);
            return {
              namespace: p.namespace,
              name: p.name,
              ips: p.ips.map((ip) => ip.split("/")[0]!),
              ...(iso?.ingress ? { ingress: iso.ingress } : {}),
              ...(iso?.egress ? { egress: iso.egress } : {}),
            };
          })
          .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      };
    });
    return {
      lab: src.lab,
      backend: state.backend,
      time,
      nodes,
      ...(last ? { matrix: { time: last.time, cells: last.matrix.cells } } : {}),
    };
  }
  // Not a lab: the agent(s) asked, the nodes they know (status), their isolated pods.
  const nodes: ViewNode[] = [];
  for (const x of answers) {
    let known: StatusAnswer = {};
    try {
      known = await new AgentClient(x.a.socket).get<StatusAnswer>("/v1/status");
    } catch {}
    for (const n of known.clusterNodes ?? [])
      if (!nodes.some((m) => m.name === n.name))
        nodes.push({ name: n.name, underlay: n.underlayAddress, agent: "ok", pods: [] });
    const own = x.policy?.node ?? x.a.node;
    let here = nodes.find((n) => n.name === own);
    if (!here) {
      here = { name: own, agent: "ok", pods: [] };
      nodes.push(here);
    }
    if (x.problem) Object.assign(here, { agent: "unreachable", problem: x.problem });
    here.pods.push(...(x.policy?.pods ?? []).map((p) => isolation.get(`${p.namespace}/${p.name}`)!));
  }
  return { time, nodes };
}
