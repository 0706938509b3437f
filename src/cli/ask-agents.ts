import { AgentClient } from "../api/agent-client.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { AgentRef } from "./agent-refs.ts";

/** A node whose agent gave no answer, and why (no socket, refused, timed out, an error answer). */
export interface UnreachableAgent {
  node: string;
  socket: string;
  code: string;
  reason: string;
}

export interface AgentAnswers<T> {
  answers: { ref: AgentRef; value: T }[];
  unreachable: UnreachableAgent[];
}

/** The reason without the "asking the agent of node x:" prefix the client puts first. */
const reasonOf = (e: unknown): { code: string; reason: string } => {
  if (e instanceof TartanError) {
    const m = e.message.replace(/^[^:]*: the tartan agent (does not answer|at \S+ answered)/, "$1");
    return { code: e.code, reason: m };
  }
  return { code: "agent-error", reason: e instanceof Error ? e.message : String(e) };
};

/**
 * Asks every agent at once (each request bounded by the client's timeout) and keeps what comes
 * back: one dead agent costs its own row, never the whole answer. Answers keep the refs' order.
 */
export async function askAgents<T>(
  refs: readonly AgentRef[],
  path: string,
  timeoutMs?: number,
): Promise<AgentAnswers<T>> {
  const settled = await Promise.allSettled(
    refs.map((a) =>
      new AgentClient(a.socket).request<T>({
        method: "GET",
        path,
        ...(timeoutMs ? { timeoutMs } : {}),
        doing: a.node === "-" ? `asking the agent at ${a.socket}` : `asking the agent of node ${a.node}`,
      }),
    ),
  );
  const out: AgentAnswers<T> = { answers: [], unreachable: [] };
  settled.forEach((s, i) => {
    const ref = refs[i]!;
    if (s.status === "fulfilled") out.answers.push({ ref, value: s.value });
    else out.unreachable.push({ node: ref.node, socket: ref.socket, ...reasonOf(s.reason) });
  });
  return out;
}

/** The warning lines for nodes that did not answer (stderr), and the exit code they make. */
export function reportUnreachable(
  unreachable: readonly UnreachableAgent[],
  err: (t: string) => void,
): number {
  for (const u of unreachable) err(`tartan: node ${u.node}: agent unreachable: ${u.reason}\n`);
  return unreachable.length > 0 ? 1 : 0;
}
