import type { Datastore } from "../datastore/datastore.ts";
import type { IPAMBlockResource, NodeResource } from "../model/cluster-resources.ts";
import type { AgentConfig } from "./agent-config.ts";
import type { AgentLog } from "./agent-log.ts";
import type { AgentMetrics } from "./agent-metrics.ts";
import type { AgentTimers } from "./agent-timers.ts";
import type { Underlay } from "./kernel-port.ts";
import type { KindMirror, KindMirrorOptions } from "./kind-mirror.ts";

/** A datastore change that matters: objects of `kind` changed; the mirrors hold the new state. */
export interface ManagerEvent {
  readonly kind: string;
}

/**
 * One part of the kernel the agent keeps at a desired state (routing, NetworkPolicy, next: BGP),
 * in the style of Calico felix's managers (decision 0010):
 * - onUpdate() is cheap and synchronous, no I/O: it only marks work;
 * - apply() programs the kernel; the agent calls it, coalesced, and never before the first full
 *   sync; it is cheap when nothing was marked; a throw is logged and retried by the next trigger;
 * - resync() marks that the next apply must read the kernel again (drift repair);
 * - stop() ends the manager's own work and leaves the kernel as it is.
 */
export interface Manager {
  /** Short and stable: logs and metrics name the manager by it. */
  readonly name: string;
  /**
   * The datastore mirrors the manager owns (their changes reach it directly): the agent starts
   * them with its own, and its first full sync waits for their first list.
   */
  readonly mirrors: readonly KindMirror[];
  /** True once everything the manager reads has been listed once (its view is complete). */
  readonly inSync: boolean;
  /**
   * The most ms an apply waits after the previous one ended (as long as that one took, capped
   * here: the agent's coalescing trigger, so a burst of events takes few applies); absent: none.
   */
  readonly settleMs?: number;
  onUpdate(event: ManagerEvent): void;
  /** Programs the kernel; answers how many kernel objects changed, or undefined when it did not look. */
  apply(): Promise<{ changes?: number } | undefined>;
  resync(): void;
  /**
   * Stops its mirrors (the agent started them), timers and watches, and waits for its own running
   * work; the kernel is left alone.
   */
  stop(): Promise<void>;
}

/** What the agent gives every manager it builds. */
export interface ManagerContext {
  config: AgentConfig;
  ds: Datastore;
  underlay: Underlay;
  log: AgentLog;
  /** The agent's own metrics (apply counts and durations of the routing manager live there). */
  metrics: AgentMetrics;
  /** The Nodes and IPAMBlocks the agent mirrors (block claims need them too): events as onUpdate. */
  nodes: KindMirror<NodeResource>;
  blocks: KindMirror<IPAMBlockResource>;
  /** Options for a manager's own mirrors: failures reported like the agent's, the agent's timers. */
  mirrorOptions(what: string): Omit<KindMirrorOptions, "onChange" | "relevant">;
  timers: AgentTimers;
}

/** Builds a manager once the agent exists; the wiring (main.ts, tests) lists them. */
export type ManagerFactory = (ctx: ManagerContext) => Manager;
