import { AgentClient, agentUnreachableHint } from "../api/agent-client.ts";
import type { IpamStore, IpamTx } from "../datastore/ipam-store.ts";
import { CniCode, CniError } from "../errors/cni-error.ts";
import { type AddressAssignment, allocate } from "../ipam/allocate.ts";
import { allocateFromBlocks } from "../ipam/allocate-from-blocks.ts";
import { blockRangeSets } from "../ipam/block-range-sets.ts";
import { BlocksFullError } from "../ipam/blocks-full-error.ts";
import { gc } from "../ipam/gc.ts";
import type { IpamConfig } from "../ipam/ipam-config.ts";
import { rangeSetUsage } from "../ipam/range-set-usage.ts";
import { release } from "../ipam/release.ts";
import { DEFAULT_AGENT_SOCKET } from "../model/agent-api.ts";
import type { CniDns, CniResult } from "../model/cni-result.ts";
import type { AttachmentKey } from "../model/net-conf.ts";
import type { IpamBackend } from "./ipam-backend.ts";
import { parseIpamRoutes } from "./ipam-routes.ts";
import { type RequestBlock, requestBlock } from "./request-block.ts";

/**
 * tartan-ipam run inside the plugin process: no second process start on ADD. Reservations live
 * in the local store; every verb is one transaction.
 */
export class InProcessIpam implements IpamBackend {
  constructor(
    private readonly store: IpamStore,
    private readonly config: IpamConfig,
    private readonly owner: { containerId: string; ifname: string },
    private readonly ipam: Record<string, unknown>,
    private readonly askAgent: RequestBlock = requestBlock,
  ) {}

  private get agentSocket(): string {
    return this.config.agentSocket ?? DEFAULT_AGENT_SOCKET;
  }

  async add(record?: (tx: IpamTx, result?: CniResult) => void): Promise<CniResult> {
    const req = {
      network: this.config.network,
      containerId: this.owner.containerId,
      ifname: this.owner.ifname,
      requestedIps: this.config.requestedIps,
    };
    // Routes and DNS are parsed before the transaction: a config error must not hold the lock.
    const routes = parseIpamRoutes(this.ipam);
    const dns = this.ipam.dns as CniDns | undefined;
    const toResult = (assigned: AddressAssignment[]): CniResult => ({
      cniVersion: "1.1.0",
      ips: assigned.map((a) => ({ address: a.address, gateway: a.gateway })),
      routes,
      ...(dns && typeof dns === "object" ? { dns } : {}),
    });
    const withRecord = (tx: IpamTx, assigned: AddressAssignment[]): CniResult => {
      const result = toResult(assigned);
      record?.(tx, result);
      return result;
    };
    return this.config.nodeBlocks
      ? await this.addFromBlocks(req, withRecord)
      : this.store.transaction((tx) =>
          withRecord(tx, allocate(tx, { ...req, rangeSets: this.config.rangeSets })),
        );
  }

  /**
   * Blocks with room: one local transaction, nothing else. Full: ask the agent for a block (it
   * writes it to the store before answering), then try once more; a second miss goes to the
   * runtime as the exhaustion it is.
   */
  private async addFromBlocks(
    req: Parameters<typeof allocateFromBlocks>[1],
    withRecord: (tx: IpamTx, assigned: AddressAssignment[]) => CniResult,
  ): Promise<CniResult> {
    const once = () => this.store.transaction((tx) => withRecord(tx, allocateFromBlocks(tx, req)));
    try {
      return once();
    } catch (e) {
      if (!(e instanceof BlocksFullError)) throw e;
      await this.askAgent(this.agentSocket, {
        network: req.network,
        ...(e.family ? { family: e.family } : {}),
      });
      return once();
    }
  }

  async del(): Promise<void> {
    this.store.transaction((tx) =>
      release(tx, this.config.network, this.owner.containerId, this.owner.ifname),
    );
  }

  async check(): Promise<void> {
    const held = this.store.transaction((tx) =>
      tx.allocationsOf(this.config.network, this.owner.containerId, this.owner.ifname),
    );
    if (held.length === 0) {
      throw new CniError(
        CniCode.checkFailed,
        `no address is reserved for ${this.owner.containerId}/${this.owner.ifname} on network "${this.config.network}"`,
        "",
        "the IPAM state lost this attachment; delete and re-create the pod",
      );
    }
  }

  async gc(valid: AttachmentKey[]): Promise<void> {
    this.store.transaction((tx) => gc(tx, this.config.network, valid));
  }

  async status(): Promise<void> {
    const usage = this.store.transaction((tx) =>
      rangeSetUsage(
        tx,
        this.config.network,
        this.config.nodeBlocks ? blockRangeSets(tx.nodeBlocks(this.config.network)) : this.config.rangeSets,
      ),
    );
    const full = usage.filter((u) => u.exhausted);
    if (this.config.nodeBlocks && (full.length || usage.length === 0)) {
      // Full blocks are fine while the agent can claim another one; no block at all is fine only
      // while its network can give one (not in node-podcidr mode without a pod CIDR).
      const health = await new AgentClient(this.agentSocket).health();
      if (health.ok && (usage.length > 0 || health.network?.available !== false)) return;
      if (health.ok) {
        throw new CniError(
          CniCode.notAvailable,
          `network "${this.config.network}": this node has no IPAM block and cannot get one: ${health.network!.message}`,
          "",
          "give the Node a pod CIDR (kube-controller-manager --allocate-node-cidrs with --cluster-cidr), or use ipam.mode: blocks in the agent config",
        );
      }
      throw new CniError(
        CniCode.notAvailable,
        `network "${this.config.network}": this node's IPAM blocks are ${usage.length ? "full" : "not claimed yet"} ` +
          `and the tartan agent does not answer at ${this.agentSocket}`,
        "",
        agentUnreachableHint(this.agentSocket),
      );
    }
    if (full.length) {
      throw new CniError(
        CniCode.notAvailable,
        `network "${this.config.network}" has no free address in ${full.map((u) => u.ranges.join(",")).join("; ")}`,
        "",
        `add a range to ipam.ranges or remove unused pods (\`tartan ipam ls --network ${this.config.network}\` lists the reservations, \`tartan ipam check\` the leaked ones)`,
      );
    }
  }
}
