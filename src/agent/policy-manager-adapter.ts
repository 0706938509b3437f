import type { DropLogSource } from "../dataplane/drop-log-source.ts";
import type { NftTable } from "../dataplane/nft-table.ts";
import type { Manager, ManagerFactory } from "./manager.ts";
import { PolicyManager } from "./policy-manager.ts";

/**
 * NetworkPolicy enforcement (PolicyManager, decision 0009) behind the Manager interface. The
 * PolicyManager keeps its own scheduling: its mirrors (Pods, Namespaces, NetworkPolicies) and the
 * socket API's pod joins call its onUpdate, which starts a coalesced apply with backoff retries
 * and answers the join's waiters. The agent's apply() only starts it after the first full sync
 * (nothing is written before) and waits for what is running.
 */
export class PolicyManagerAdapter implements Manager {
  readonly name = "policy";
  private started = false;

  constructor(readonly policy: PolicyManager) {}

  get mirrors() {
    return this.policy.mirrors;
  }

  get inSync(): boolean {
    return this.policy.synced;
  }

  /** The agent's Nodes and IPAMBlocks do not decide policy; its own mirrors feed the manager. */
  onUpdate(): void {}

  async apply(): Promise<undefined> {
    if (!this.started) {
      this.started = true;
      this.policy.start();
    }
    await this.policy.idle();
    return undefined;
  }

  resync(): void {
    this.policy.resync();
  }

  async stop(): Promise<void> {
    this.policy.stop();
    await this.policy.idle();
  }
}

/**
 * The wiring's line for NetworkPolicy: nftables, whether the kernel can enforce SCTP, and the
 * reader of the drop log group (absent: drops are counted, not reported one by one).
 */
export const policyManager =
  (p: { nft: NftTable; sctp: boolean; openDropLog?: () => DropLogSource }): ManagerFactory =>
  (ctx) =>
    new PolicyManagerAdapter(
      new PolicyManager({
        ds: ctx.ds,
        nodeName: ctx.config.nodeName,
        nft: p.nft,
        sctp: p.sctp,
        log: ctx.log,
        mirrorOptions: ctx.mirrorOptions("policy objects"),
        setTimeout: ctx.timers.setTimeout,
        ...(p.openDropLog ? { drops: { open: p.openDropLog, timers: ctx.timers } } : {}),
      }),
    );
