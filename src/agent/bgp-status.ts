import type { BgpModel } from "../calc/bgp-model.ts";
import type { BirdReply } from "../dataplane/bird-daemon.ts";
import type { BgpNodeStatus, BgpRouteStatus, BgpSessionStatus } from "../model/agent-api.ts";

interface ProtocolRow {
  name: string;
  proto: string;
  state: string;
  since: string;
  info: string;
  details: string[];
}

/** `show protocols all`: one row (code 1002) per protocol and its detail lines (1006). */
export function parseProtocols(reply: BirdReply): ProtocolRow[] {
  const rows: ProtocolRow[] = [];
  for (const l of reply) {
    if (l.code === 1002) {
      const t = l.text.trim().split(/\s+/);
      let i = 5;
      let since = t[4] ?? "";
      if (/^\d{2}:\d{2}/.test(t[5] ?? "") && /^\d{4}-\d{2}-\d{2}$/.test(since)) since += ` ${t[i++]}`;
      rows.push({
        name: t[0] ?? "",
        proto: t[1] ?? "",
        state: t[3] ?? "",
        since,
        info: t.slice(i).join(" "),
        details: [],
      });
    } else if (l.code === 1006 && rows.length > 0) {
      rows[rows.length - 1]!.details.push(l.text);
    }
  }
  return rows;
}

/** `show route export kernelN`: the routes BIRD put in the kernel. */
export function parseRoutes(reply: BirdReply): BgpRouteStatus[] {
  const out: BgpRouteStatus[] = [];
  let dst = "";
  for (const l of reply) {
    const r = /^(\S+)?\s+(unicast|blackhole|unreachable|prohibit)\s+\[(\S+)/.exec(l.text);
    if (r) {
      if (r[1]) dst = r[1];
      out.push({ dst, from: r[3]! });
      continue;
    }
    const v = /^\s*via\s+(\S+)\s+on\s+(\S+)/.exec(l.text);
    const last = out[out.length - 1];
    if (v && last && last.via === undefined) {
      last.via = v[1]!;
      last.dev = v[2]!;
    }
  }
  return out;
}

/**
 * One node's BGP status from its model (which session is whom) and BIRD's answers (pure): every
 * session with its state and route counts, the routes BIRD installed, and a one-line verdict.
 */
export function bgpNodeStatus(
  model: BgpModel,
  protocols: BirdReply,
  routes: BirdReply,
  birdPid: number | undefined,
  recovering: boolean,
): BgpNodeStatus {
  const rows = new Map(parseProtocols(protocols).map((r) => [r.name, r]));
  const sessions: BgpSessionStatus[] = model.sessions.map((s) => {
    const r = rows.get(s.name);
    let imported = 0;
    let exported = 0;
    let bgpState: string | undefined;
    let lastError = "";
    for (const d of r?.details ?? []) {
      const c = /Routes:\s+(\d+) imported,(?:\s*(?:\d+) filtered,)?\s*(\d+) exported/.exec(d);
      if (c) {
        imported += Number(c[1]);
        exported += Number(c[2]);
      }
      const st = /BGP state:\s+(\S+)/.exec(d);
      if (st) bgpState = st[1];
      const le = /Last error:\s+(.*)$/.exec(d);
      if (le) lastError = le[1]!.trim();
    }
    const infoWords = (r?.info ?? "").split(" ");
    const state = r ? (bgpState ?? infoWords[0] ?? r.state) : "NotConfigured";
    const rest = infoWords.slice(1).join(" ").trim();
    return {
      peer: s.peerIP,
      ...(s.peerNode ? { peerNode: s.peerNode } : {}),
      asNumber: s.asNumber,
      type: s.type,
      state: state || "unknown",
      since: r?.since ?? "",
      info: rest || (state === "Established" ? "" : lastError),
      families: [
        ...(s.ipv4 ? (["ipv4"] as const) : []),
        ...(s.ipv6 && model.nextHop6 ? (["ipv6"] as const) : []),
      ],
      importedRoutes: imported,
      exportedRoutes: exported,
      protocol: s.name,
    };
  });
  const installed = parseRoutes(routes);
  const up = sessions.filter((s) => s.state === "Established").length;
  const down = sessions.filter((s) => s.state !== "Established");
  let verdict: string;
  let healthy = false;
  if (birdPid === undefined) verdict = "down: bird is not running (the agent restarts it)";
  else if (recovering)
    verdict = `recovering: graceful restart in progress, ${up}/${sessions.length} sessions established`;
  else if (sessions.length === 0) {
    healthy = true;
    verdict = "ok: no BGP peers configured";
  } else if (down.length === 0) {
    healthy = true;
    verdict = `ok: ${up}/${sessions.length} sessions established, ${installed.length} routes installed`;
  } else {
    const first = down[0]!;
    verdict = `degraded: ${up}/${sessions.length} sessions established; ${first.peerNode ?? first.peer} is ${first.state}${first.info ? ` (${first.info})` : ""}${down.length > 1 ? ` and ${down.length - 1} more` : ""}`;
  }
  return {
    name: model.node,
    healthy,
    verdict,
    ...(birdPid !== undefined ? { birdPid } : {}),
    routerId: model.routerId,
    asNumber: model.asNumber,
    ...(model.routeReflectorClusterId ? { routeReflectorClusterID: model.routeReflectorClusterId } : {}),
    sessions,
    routes: installed,
    problems: model.problems.map((p) => p.message),
  };
}
