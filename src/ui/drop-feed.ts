import { followAgent } from "../api/agent-stream.ts";
import type { AgentRef } from "../cli/agent-refs.ts";
import { AGENT_DROPS_PATH, type DropRecord, type DropsAnswer } from "../model/agent-api.ts";

/** What the feed sends its listeners: a drop record, or an agent's stream state. */
export type FeedItem =
  | { type: "drop"; record: DropRecord }
  | { type: "agent"; node: string; following: boolean; problem?: string };

const RECENT = 50;
const RETRY_MS = 2000;

/**
 * Every agent's live drops in one feed (the web view's server-sent events): one follow stream
 * per agent, reopened when it ends (an agent restarted); the last records are kept for a page
 * that connects later.
 */
export class DropFeed {
  readonly recent: DropRecord[] = [];
  readonly agentState = new Map<string, FeedItem & { type: "agent" }>();
  private readonly listeners = new Set<(item: FeedItem) => void>();
  private readonly stop = new AbortController();

  constructor(private readonly agents: readonly AgentRef[]) {}

  start(): void {
    for (const a of this.agents) void this.follow(a);
  }

  close(): void {
    this.stop.abort();
  }

  subscribe(fn: (item: FeedItem) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(item: FeedItem): void {
    if (item.type === "drop") {
      this.recent.push(item.record);
      if (this.recent.length > RECENT) this.recent.shift();
    } else {
      this.agentState.set(item.node, item);
    }
    for (const l of this.listeners) l(item);
  }

  private async follow(a: AgentRef): Promise<void> {
    while (!this.stop.signal.aborted) {
      try {
        await followAgent(
          a.socket,
          `${AGENT_DROPS_PATH}?follow=1`,
          (v) => {
            const line = v as DropsAnswer | DropRecord;
            if ("kind" in line) this.emit({ type: "drop", record: line });
            else
              this.emit({
                type: "agent",
                node: a.node,
                following: line.listening,
                ...(line.problem ? { problem: line.problem } : {}),
              });
            return true;
          },
          this.stop.signal,
        );
      } catch (e) {
        this.emit({
          type: "agent",
          node: a.node,
          following: false,
          problem: e instanceof Error ? e.message : String(e),
        });
      }
      if (this.stop.signal.aborted) return;
      await Bun.sleep(RETRY_MS);
    }
  }
}
