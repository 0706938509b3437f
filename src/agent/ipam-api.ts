import { existsSync } from "node:fs";
import type { ErrorCode } from "../errors/error-code.ts";
import {
  AGENT_IPAM_PATH,
  AGENT_IPAM_RELEASE_PATH,
  type IpamReleaseRequest,
  type IpamReleaseResponse,
  type NodeIpamState,
} from "../model/agent-api.ts";
import { formatIp, parseIp } from "../model/ip.ts";
import type { Agent } from "./agent.ts";

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const failure = (status: number, code: ErrorCode, message: string, hint?: string): Response =>
  json(status, { code, message, ...(hint ? { hint } : {}) });

/** A netns path that exists here: the agent shares the node's mount namespace (lab and DaemonSet). */
const netnsExists = (path: string): boolean => path !== "" && existsSync(path);

/** This node's store as `tartan ipam show|check` reads it: one transaction, every network. */
export function nodeIpamState(agent: Agent): NodeIpamState {
  const { store, network } = agent.ipam;
  return store.transaction((tx) => {
    const networks = tx.networks();
    return {
      node: agent.nodeName,
      network,
      blocks: tx.nodeBlocks(network),
      reservations: networks.flatMap((n) =>
        tx.allocations(n).map((a) => ({
          network: a.network,
          ip: a.ip,
          containerId: a.containerId,
          ifname: a.ifname,
          rangeKey: a.rangeKey,
        })),
      ),
      attachments: networks.flatMap((n) =>
        tx.attachments(n).map((a) => ({
          network: a.network,
          containerId: a.containerId,
          ifname: a.ifname,
          netns: a.netns,
          hostIfname: a.hostIfname,
          createdAt: a.createdAt,
          netnsExists: netnsExists(a.netns),
        })),
      ),
    };
  });
}

/**
 * Releases the owner of a leaked address (every address its network, container and interface
 * hold, and its attachment record) in one store transaction, as a CNI DEL would have. Refused
 * (409) while the owner's network namespace exists, unless forced: that container is alive.
 */
function release(agent: Agent, req: IpamReleaseRequest): Response {
  let ip: string;
  try {
    ip = formatIp(parseIp(String(req.ip)));
  } catch {
    return failure(400, "agent-bad-request", 'body must be {"ip": ADDRESS, "force"?: bool}');
  }
  return agent.ipam.store.transaction((tx) => {
    const owner = tx
      .networks()
      .flatMap((n) => tx.allocations(n))
      .find((a) => a.ip === ip);
    if (!owner) {
      return failure(404, "ipam-not-reserved", `${ip} is not reserved on node ${agent.nodeName}`);
    }
    const att = tx.getAttachment(owner.network, owner.containerId, owner.ifname);
    if (att && netnsExists(att.netns) && !req.force) {
      return failure(
        409,
        "ipam-release-refused",
        `${ip} belongs to container ${owner.containerId.slice(0, 12)} (${owner.ifname}), whose network namespace ${att.netns} still exists`,
        "it is in use: delete the pod (CNI DEL releases it); release anyway with --force",
      );
    }
    const released = tx.release(owner.network, owner.containerId, owner.ifname);
    if (att) tx.deleteAttachment(owner.network, owner.containerId, owner.ifname);
    agent.log("info", "ipam: released on request", {
      ip,
      containerId: owner.containerId,
      ifname: owner.ifname,
      released: released.map((a) => a.ip).join(","),
      force: req.force === true,
    });
    return json(200, {
      node: agent.nodeName,
      released: released.map((a) => ({
        network: a.network,
        ip: a.ip,
        containerId: a.containerId,
        ifname: a.ifname,
        rangeKey: a.rangeKey,
      })),
      attachmentRemoved: att !== undefined,
    } satisfies IpamReleaseResponse);
  });
}

/**
 * The IPAM part of the agent's socket API, or undefined when the path is not one of its own:
 *   GET  /v1/ipam                  → NodeIpamState
 *   POST /v1/ipam/release {ip, force?} → IpamReleaseResponse | 404 not reserved | 409 in use
 */
export async function ipamApi(agent: Agent, req: Request): Promise<Response | undefined> {
  const path = new URL(req.url).pathname;
  if (path === AGENT_IPAM_PATH && req.method === "GET") return json(200, nodeIpamState(agent));
  if (path === AGENT_IPAM_RELEASE_PATH && req.method === "POST") {
    const body = (await req.json().catch(() => null)) as Partial<IpamReleaseRequest> | null;
    if (typeof body !== "object" || body === null || typeof body.ip !== "string") {
      return failure(400, "agent-bad-request", 'body must be {"ip": ADDRESS, "force"?: bool}');
    }
    return release(agent, { ip: body.ip, force: body.force === true });
  }
  return undefined;
}
