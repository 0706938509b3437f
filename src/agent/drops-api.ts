import { AGENT_DROPS_PATH, type DropRecord } from "../model/agent-api.ts";
import type { Agent } from "./agent.ts";

/** A follow stream sends an empty line this often when quiet, so idle timeouts never cut it. */
const KEEPALIVE_MS = 5000;

const json = (status: number, body: unknown): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** Whether a record concerns namespace `ns` / pod `pod` (either end, or the isolated pod). */
export function dropMatches(r: DropRecord, ns: string | undefined, pod: string | undefined): boolean {
  if (!ns && !pod) return true;
  const ends: { namespace?: string; pod?: string }[] = r.kind === "drop" ? [r.src, r.dst] : [];
  const [pns, pname] = r.pod.split("/");
  ends.push({ namespace: pns, pod: pname });
  return ends.some((e) => (!ns || e.namespace === ns) && (!pod || e.pod === pod));
}

/**
 * GET /v1/drops[?since=SEQ&namespace=NS&pod=NAME&follow=1]: the drop reporter's ring as one
 * DropsAnswer, or with follow a stream of JSON lines (the answer without records, the ring's
 * records after `since` when given, then each new record as it comes; empty lines keep a quiet
 * stream open). Undefined for other paths.
 */
export function dropsApi(agent: Agent, req: Request, path: string): Response | undefined {
  if (path !== AGENT_DROPS_PATH || req.method !== "GET") return undefined;
  const reporter = agent.policy?.drops;
  const q = new URL(req.url).searchParams;
  const ns = q.get("namespace") ?? undefined;
  const pod = q.get("pod") ?? undefined;
  const since = Number(q.get("since") ?? "0");
  if (!reporter) {
    return json(200, {
      node: agent.nodeName,
      listening: false,
      problem: agent.policy
        ? "this agent was started without a drop log reader"
        : "this agent does not enforce NetworkPolicy",
      records: [],
    });
  }
  const wanted = (r: DropRecord) => r.seq > since && dropMatches(r, ns, pod);
  if (q.get("follow") !== "1") return json(200, reporter.answer(reporter.ring.list().filter(wanted)));
  const enc = new TextEncoder();
  let unsubscribe = () => {};
  let keepalive: ReturnType<typeof setInterval> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (o: unknown) => controller.enqueue(enc.encode(`${JSON.stringify(o)}\n`));
      send(reporter.answer([]));
      // The ring first only when asked (`since`): a plain follow shows what happens from now on.
      if (q.has("since")) for (const r of reporter.ring.list()) if (wanted(r)) send(r);
      unsubscribe = reporter.ring.subscribe((r) => {
        if (wanted(r)) send(r);
      });
      keepalive = setInterval(() => controller.enqueue(enc.encode("\n")), KEEPALIVE_MS);
    },
    cancel() {
      unsubscribe();
      clearInterval(keepalive);
    },
  });
  return new Response(body, { headers: { "content-type": "application/x-ndjson" } });
}
