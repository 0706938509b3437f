import type { IpamStore } from "../datastore/ipam-store.ts";
import { CniCode, CniError } from "../errors/cni-error.ts";
import { allocate } from "../ipam/allocate.ts";
import { gc } from "../ipam/gc.ts";
import type { IpamConfig } from "../ipam/ipam-config.ts";
import { rangeSetUsage } from "../ipam/range-set-usage.ts";
import { release } from "../ipam/release.ts";
import type { CniDns, CniResult } from "../model/cni-result.ts";
import type { AttachmentKey } from "../model/net-conf.ts";
import type { IpamBackend } from "./ipam-backend.ts";
import { parseIpamRoutes } from "./ipam-routes.ts";

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
  ) {}

  async add(): Promise<CniResult> {
    const assigned = this.store.transaction((tx) =>
      allocate(tx, {
        network: this.config.network,
        containerId: this.owner.containerId,
        ifname: this.owner.ifname,
        rangeSets: this.config.rangeSets,
        requestedIps: this.config.requestedIps,
      }),
    );
    const result: CniResult = {
      cniVersion: "1.1.0",
      ips: assigned.map((a) => ({ address: a.address, gateway: a.gateway })),
      routes: parseIpamRoutes(this.ipam),
    };
    const dns = this.ipam.dns as CniDns | undefined;
    if (dns && typeof dns === "object") result.dns = dns;
    return result;
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
      rangeSetUsage(tx, this.config.network, this.config.rangeSets),
    );
    const full = usage.filter((u) => u.exhausted);
    if (full.length) {
      throw new CniError(
        CniCode.notAvailable,
        `network "${this.config.network}" has no free address in ${full.map((u) => u.ranges.join(",")).join("; ")}`,
        "",
        "add a range to ipam.ranges or remove unused pods (tartan ipam check lists leaks)",
      );
    }
  }
}
