import type { NodeIpamState } from "../model/agent-api.ts";
import { contains, parseCidr } from "../model/cidr.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import { formatIp, parseIp } from "../model/ip.ts";
import type { PodResource } from "../model/k8s-resources.ts";

export type IpamProblemKind =
  /** Reserved for a container that no longer exists (no record, or its netns is gone); no Pod lists it. */
  | "leaked-address"
  /** The container is gone but a Pod object still lists the address (kubelet has not cleaned up yet). */
  | "container-gone"
  /** A live container holds it, but no Pod object lists the address. */
  | "address-without-pod"
  /** A Pod lists an address its node's store does not reserve: it can be given to another pod. */
  | "pod-address-not-reserved"
  /** Two reservations (on two nodes, or two owners) or two Pods hold one address. */
  | "address-held-twice"
  /** Reserved on a node that owns no block containing it (the block went to another node or away). */
  | "address-outside-node-blocks"
  /** An IPAMBlock whose owner node no longer exists. */
  | "block-of-missing-node"
  /** A node's agent did not answer: its store was not checked. */
  | "agent-unreachable";

export interface IpamProblem {
  kind: IpamProblemKind;
  ip?: string;
  node?: string;
  detail: string;
  /** What to do about it. */
  fix: string;
}

export interface IpamCheck {
  ok: boolean;
  problems: IpamProblem[];
  /** What was compared: the stores read, their reservations, the Pods and the blocks. */
  checked: { nodes: string[]; reservations: number; pods: number; blocks: number };
}

export interface IpamCheckInput {
  nodes: readonly NodeResource[];
  blocks: readonly IPAMBlockResource[];
  pods: readonly PodResource[];
  /** The local IPAM stores read (each through its node's agent). */
  stores: readonly NodeIpamState[];
  /** Nodes whose agent did not answer, and why. */
  unreachable: readonly { node: string; reason: string }[];
}

interface PodAddr {
  pod: string;
  node: string | undefined;
}

const canonical = (ip: string): string | undefined => {
  try {
    return formatIp(parseIp(ip));
  } catch {
    return undefined;
  }
};

/** Pods that hold addresses on the pod network: not hostNetwork, not finished. */
function podAddresses(pods: readonly PodResource[]): Map<string, PodAddr[]> {
  const out = new Map<string, PodAddr[]>();
  for (const p of pods) {
    const phase = p.status?.phase;
    if (p.spec?.hostNetwork || phase === "Succeeded" || phase === "Failed") continue;
    const key = `${p.metadata.namespace ?? "default"}/${p.metadata.name}`;
    for (const { ip } of p.status?.podIPs ?? []) {
      const c = canonical(ip);
      if (c) out.set(c, [...(out.get(c) ?? []), { pod: key, node: p.spec?.nodeName }]);
    }
  }
  return out;
}

const RELEASE = (ip: string) =>
  `tartan ipam release --ip ${ip} (frees it and every address of the same container)`;

/**
 * `tartan ipam check`: every inconsistency between the nodes' reservations (their local IPAM
 * stores), the attachment records beside them, the Pod objects and the IPAM blocks, each with
 * what to do. Pure: the CLI gathers the stores from the agents and the objects from the datastore.
 */
export function ipamCheck(i: IpamCheckInput): IpamCheck {
  const problems: IpamProblem[] = [];
  const byIp = podAddresses(i.pods);
  const nodeNames = new Set(i.nodes.map((n) => n.metadata.name));
  const heldBy = new Map<string, { node: string; owner: string }[]>();
  let reservations = 0;

  for (const s of i.stores) {
    const atts = new Map(s.attachments.map((a) => [`${a.network}|${a.containerId}|${a.ifname}`, a]));
    const own = i.blocks
      .filter((b) => b.spec.node === s.node)
      .flatMap((b) => {
        try {
          return [parseCidr(b.spec.cidr)];
        } catch {
          return [];
        }
      });
    const reserved = new Set<string>();
    for (const r of s.reservations) {
      reservations++;
      const ip = canonical(r.ip) ?? r.ip;
      reserved.add(ip);
      const owner = `${r.network}/${r.containerId.slice(0, 12)}/${r.ifname}`;
      heldBy.set(ip, [...(heldBy.get(ip) ?? []), { node: s.node, owner }]);
      const att = atts.get(`${r.network}|${r.containerId}|${r.ifname}`);
      const pods = byIp.get(ip) ?? [];
      if (!att?.netnsExists) {
        const why = att
          ? `its container's network namespace ${att.netns} is gone (the CNI DEL never came)`
          : "no attachment record holds it (an ADD that never completed, or a record removed by hand)";
        if (pods.length === 0) {
          problems.push({
            kind: "leaked-address",
            ip,
            node: s.node,
            detail: `${ip} is reserved for container ${owner} on ${s.node}, but ${why}; no Pod lists it`,
            fix: RELEASE(ip),
          });
        } else {
          problems.push({
            kind: "container-gone",
            ip,
            node: s.node,
            detail: `${ip} is reserved for container ${owner} on ${s.node}, ${why}, yet Pod ${pods.map((p) => p.pod).join(", ")} lists it`,
            fix:
              "the kubelet re-creates or deletes the pod's sandbox; once the Pod is gone, if the address stays: " +
              RELEASE(ip),
          });
        }
      } else if (pods.length === 0) {
        problems.push({
          kind: "address-without-pod",
          ip,
          node: s.node,
          detail: `${ip} is held by live container ${owner} (netns ${att.netns}) on ${s.node}, but no Pod lists it`,
          fix: "a container outside Kubernetes (podman) needs nothing; else a pod whose IPs never reached the datastore: delete and re-create it",
        });
      }
      if (own.length > 0 || i.blocks.length > 0) {
        const a = parseIp(ip);
        if (!own.some((c) => contains(c, a))) {
          problems.push({
            kind: "address-outside-node-blocks",
            ip,
            node: s.node,
            detail: `${ip} is reserved on ${s.node}, which owns no IPAM block containing it`,
            fix: "delete and re-create the pod using it (its block is another node's now, or gone)",
          });
        }
      }
    }
    for (const [ip, pods] of byIp) {
      for (const p of pods) {
        if (p.node !== s.node || reserved.has(ip)) continue;
        problems.push({
          kind: "pod-address-not-reserved",
          ip,
          node: s.node,
          detail: `Pod ${p.pod} on ${s.node} lists ${ip}, but ${s.node}'s IPAM store does not reserve it`,
          fix: `delete and re-create pod ${p.pod}: the address can be handed to another pod meanwhile`,
        });
      }
    }
  }

  for (const [ip, holders] of heldBy) {
    if (holders.length < 2) continue;
    problems.push({
      kind: "address-held-twice",
      ip,
      detail: `${ip} is reserved ${holders.length} times: ${holders.map((h) => `${h.owner} on ${h.node}`).join(", ")}`,
      fix: "delete and re-create the pods of all but one holder, then run tartan ipam check again",
    });
  }
  for (const [ip, pods] of byIp) {
    const distinct = [...new Set(pods.map((p) => p.pod))];
    if (distinct.length < 2) continue;
    problems.push({
      kind: "address-held-twice",
      ip,
      detail: `${ip} is listed by ${distinct.length} Pods: ${distinct.join(", ")}`,
      fix: `delete and re-create all but one of ${distinct.join(", ")}`,
    });
  }
  for (const b of i.blocks) {
    if (nodeNames.has(b.spec.node)) continue;
    problems.push({
      kind: "block-of-missing-node",
      node: b.spec.node,
      detail: `IPAM block ${b.spec.cidr} (pool ${b.spec.pool}) belongs to node ${b.spec.node}, which no longer exists`,
      fix: "the node reclaimer releases it after nodeReclaimAfterSeconds; a node that will return keeps it: re-register its agent",
    });
  }
  for (const u of i.unreachable) {
    problems.push({
      kind: "agent-unreachable",
      node: u.node,
      detail: `node ${u.node}'s IPAM store was not checked: ${u.reason}`,
      fix: `start or repair the agent of ${u.node} (its log says why), then check again`,
    });
  }
  const order = (p: IpamProblem) => `${p.kind} ${p.node ?? ""} ${p.ip ?? ""}`;
  problems.sort((a, b) => order(a).localeCompare(order(b)));
  return {
    ok: problems.length === 0,
    problems,
    checked: {
      nodes: i.stores.map((s) => s.node),
      reservations,
      pods: [...byIp.values()].flat().length,
      blocks: i.blocks.length,
    },
  };
}
