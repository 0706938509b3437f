// The web view's page script (plain JavaScript + SVG, no framework, nothing fetched from elsewhere):
// draws /api/cluster, follows /api/events (server-sent events) for live drops, and asks
// /api/explain for a pair of pods the user clicks.

const SVG = "http://www.w3.org/2000/svg";
const NODE_W = 290;
const GAP = 40;
const POD_H = 44;
const $ = (id) => document.getElementById(id);

/** Pods by "ns/name" → their <g>; addresses → "ns/name". */
const podEls = new Map();
const podByIp = new Map();
const dropCounts = new Map();
let selected = [];

function el(name, attrs, parent, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs ?? {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

function byNamespace(pods) {
  const groups = new Map();
  for (const p of pods) {
    if (!groups.has(p.namespace)) groups.set(p.namespace, []);
    groups.get(p.namespace).push(p);
  }
  return [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

function nodeHeight(n) {
  return 50 + byNamespace(n.pods).reduce((h, [, pods]) => h + 26 + pods.length * (POD_H + 6) + 8, 0);
}

function draw(v) {
  const svg = $("cluster");
  svg.replaceChildren();
  podEls.clear();
  podByIp.clear();
  const height = Math.max(160, ...v.nodes.map(nodeHeight)) + 70;
  const width = Math.max(640, v.nodes.length * (NODE_W + GAP) + GAP);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = `${Math.min(height, 900)}px`;
  const busY = height - 30;
  // The backend between nodes: one bus all nodes hang on, named after the backend.
  if (v.nodes.length > 0) {
    el(
      "line",
      {
        class: "backend",
        x1: GAP + NODE_W / 2,
        x2: GAP + (v.nodes.length - 1) * (NODE_W + GAP) + NODE_W / 2,
        y1: busY,
        y2: busY,
      },
      svg,
    );
    el(
      "text",
      { class: "backend-label", x: GAP, y: busY + 20 },
      svg,
      `${v.backend ?? "backend"} between nodes (underlay)`,
    );
  }
  v.nodes.forEach((n, i) => {
    const x = GAP + i * (NODE_W + GAP);
    const g = el("g", { class: "node", "data-node": n.name }, svg);
    const h = nodeHeight(n);
    el("line", { class: "backend", x1: x + NODE_W / 2, x2: x + NODE_W / 2, y1: 20 + h, y2: busY }, g);
    el(
      "rect",
      { class: `node-box${n.agent === "ok" ? "" : " down"}`, x, y: 20, width: NODE_W, height: h, rx: 8 },
      g,
    );
    el("text", { class: "node-title", x: x + 12, y: 42 }, g, n.name);
    el(
      "text",
      { class: "ns-title", x: x + NODE_W - 12, y: 42, "text-anchor": "end" },
      g,
      n.agent === "ok" ? (n.underlay ?? "") : "agent unreachable",
    );
    if (n.problem) el("title", {}, g, n.problem);
    let y = 56;
    for (const [ns, pods] of byNamespace(n.pods)) {
      const gh = 22 + pods.length * (POD_H + 6);
      el("rect", { class: "ns-box", x: x + 8, y, width: NODE_W - 16, height: gh, rx: 6 }, g);
      el("text", { class: "ns-title", x: x + 16, y: y + 15 }, g, `namespace ${ns}`);
      let py = y + 22;
      for (const p of pods) {
        const key = `${p.namespace}/${p.name}`;
        const isolatedBy = [...new Set([...(p.ingress ?? []), ...(p.egress ?? [])])];
        const pg = el(
          "g",
          { class: `pod${isolatedBy.length ? " isolated" : ""}`, "data-pod": key, tabindex: 0 },
          g,
        );
        el("rect", { x: x + 16, y: py, width: NODE_W - 32, height: POD_H, rx: 5 }, pg);
        el("text", { x: x + 26, y: py + 17 }, pg, p.name);
        el("text", { class: "ip", x: x + 26, y: py + 34 }, pg, p.ips.join(", "));
        if (isolatedBy.length) {
          const dirs = [p.ingress ? "in" : "", p.egress ? "out" : ""].filter(Boolean).join("+");
          const at = { class: "by", x: x + NODE_W - 24, y: py + 34, "text-anchor": "end" };
          el("text", at, pg, `${dirs}: ${isolatedBy.join(", ")}`);
          el("title", {}, pg, `${key}: ${dirs} isolated by ${isolatedBy.join(", ")}`);
        }
        const badge = el(
          "text",
          { class: "badge", x: x + NODE_W - 24, y: py + 17, "text-anchor": "end" },
          pg,
          "",
        );
        pg.addEventListener("click", () => pick(key));
        podEls.set(key, { g: pg, cx: x + NODE_W / 2, cy: py + POD_H / 2, badge });
        for (const ip of p.ips) podByIp.set(ip, key);
        py += POD_H + 6;
        showCount(key);
      }
      y += gh + 8;
    }
  });
  const podCount = v.nodes.reduce((s, n) => s + n.pods.length, 0);
  $("summary").textContent =
    `${v.lab ? `lab ${v.lab} · ` : ""}${v.nodes.length} nodes · ${podCount} pods · backend ${v.backend ?? "?"}`;
  $("run-matrix").hidden = !v.lab;
  drawMatrix(v.matrix);
  for (const k of selected) podEls.get(k)?.g.classList.add("selected");
}

function showCount(key) {
  const p = podEls.get(key);
  const n = dropCounts.get(key);
  if (p && n) p.badge.textContent = `${n} dropped`;
}

function drawMatrix(m) {
  const box = $("matrix");
  if (!m) return;
  $("matrix-time").textContent = `as of ${new Date(m.time).toLocaleTimeString()}`;
  const pods = [...new Set(m.cells.flatMap((c) => [c.from, c.to]))].sort();
  const table = document.createElement("table");
  table.className = "matrix";
  const head = table.insertRow();
  head.appendChild(document.createElement("th")).textContent = "from \\ to";
  for (const to of pods) head.appendChild(document.createElement("th")).textContent = to;
  for (const from of pods) {
    const row = table.insertRow();
    const th = row.appendChild(document.createElement("th"));
    th.className = "row";
    th.textContent = from;
    for (const to of pods) {
      const td = row.insertCell();
      const cells = m.cells.filter((c) => c.from === from && c.to === to);
      if (from === to || cells.length === 0) {
        td.textContent = "·";
        continue;
      }
      const ok = cells.every((c) => c.tcp);
      // Failing where policy denies it is expected (lab matrix names the policy): not a fault.
      const denied = !ok && cells.every((c) => !c.tcp && c.policy && !c.policy.tcp);
      td.className = ok ? "ok" : denied ? "denied" : "bad";
      td.textContent = ok ? "✓" : denied ? "⊘" : "✗";
      const by = [...new Set(cells.flatMap((c) => c.policy?.deniedBy ?? []))];
      td.title =
        (denied ? `denied by policy: ${by.join(", ")}\n` : "") +
        cells
          .map(
            (c) =>
              `${c.ip}: ping ${c.ping ? "ok" : "failed"}, tcp ${c.tcp ? "ok" : "failed"}${c.error ? ` (${c.error})` : ""}`,
          )
          .join("\n");
      td.addEventListener("click", () => explain(from, to));
    }
  }
  box.replaceChildren(table);
}

function pick(key) {
  selected = selected.length >= 2 ? [key] : [...selected, key];
  for (const [k, p] of podEls) p.g.classList.toggle("selected", selected.includes(k));
  if (selected.length === 2) explain(selected[0], selected[1]);
}

async function explain(src, dst) {
  const box = $("explain");
  box.hidden = false;
  box.replaceChildren();
  const h = box.appendChild(document.createElement("h2"));
  h.textContent = `explain ${src} → ${dst}`;
  const res = await fetch(`/api/explain?src=${encodeURIComponent(src)}&dst=${encodeURIComponent(dst)}`);
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const p = box.appendChild(document.createElement("p"));
    p.textContent = body.message ?? `HTTP ${res.status}`;
    return;
  }
  if (body.verdict) {
    const p = box.appendChild(document.createElement("p"));
    p.className = `verdict-${body.verdict}`;
    p.textContent = body.verdict.toUpperCase();
  }
  if (typeof body.summary === "string")
    box.appendChild(document.createElement("p")).textContent = body.summary;
  // The same text `tartan explain` prints; the JSON behind a disclosure.
  if (typeof body.text === "string") box.appendChild(document.createElement("pre")).textContent = body.text;
  const more = box.appendChild(document.createElement("details"));
  more.appendChild(document.createElement("summary")).textContent = "as JSON";
  more.appendChild(document.createElement("pre")).textContent = JSON.stringify(
    { ...body, text: undefined },
    null,
    2,
  );
}

function endpoint(e) {
  const addr = e.port !== undefined ? `${e.ip}:${e.port}` : e.ip;
  return e.pod ? `${e.namespace}/${e.pod} (${addr})` : addr;
}

function flash(fromKey, toKey) {
  const a = podEls.get(fromKey);
  const b = podEls.get(toKey);
  if (!a || !b) return;
  const line = el(
    "path",
    {
      class: "drop-line",
      d: `M${a.cx},${a.cy} C${(a.cx + b.cx) / 2},${Math.min(a.cy, b.cy) - 60} ${(a.cx + b.cx) / 2},${Math.min(a.cy, b.cy) - 60} ${b.cx},${b.cy}`,
    },
    $("cluster"),
  );
  setTimeout(() => line.classList.add("fade"), 400);
  setTimeout(() => line.remove(), 3200);
}

function onDrop(r) {
  const list = $("drops");
  const li = document.createElement("li");
  li.dataset.seq = String(r.seq);
  li.dataset.node = r.node;
  const t = li.appendChild(document.createElement("span"));
  t.className = "t";
  t.textContent = `${r.time.slice(11, 19)} ${r.node} `;
  if (r.kind === "suppressed") {
    li.className = "suppressed";
    li.append(`${r.count} more drops of ${r.pod} (${r.direction}) not shown: rate limit`);
  } else {
    li.dataset.pod = r.pod;
    li.append(
      `${endpoint(r.src)} → ${endpoint(r.dst)} ${r.protocol}${r.icmp ? ` ${r.icmp.type}/${r.icmp.code}` : ""} `,
    );
    const v = li.appendChild(document.createElement("span"));
    v.className = "v";
    v.textContent = `dropped (${r.direction}, ${r.policies.join(", ") || "isolated"})`;
    const from = r.src.pod ? `${r.src.namespace}/${r.src.pod}` : podByIp.get(r.src.ip);
    const to = r.dst.pod ? `${r.dst.namespace}/${r.dst.pod}` : podByIp.get(r.dst.ip);
    flash(from, to);
    dropCounts.set(r.pod, (dropCounts.get(r.pod) ?? 0) + 1);
    showCount(r.pod);
  }
  list.prepend(li);
  while (list.children.length > 200) list.lastChild.remove();
}

async function refresh() {
  const res = await fetch("/api/cluster");
  if (res.ok) draw(await res.json());
  else $("summary").textContent = `cannot read the cluster: HTTP ${res.status}`;
}

function follow() {
  const states = new Map();
  const es = new EventSource("/api/events");
  es.addEventListener("drop", (e) => onDrop(JSON.parse(e.data).record));
  es.addEventListener("agent", (e) => {
    const a = JSON.parse(e.data);
    states.set(a.node, a.following);
    const on = [...states.values()].filter(Boolean).length;
    $("feed-state").textContent = `following ${on} of ${states.size} agents`;
  });
  es.onerror = () => {
    $("feed-state").textContent = "reconnecting…";
  };
}

$("refresh").addEventListener("click", refresh);
$("run-matrix").addEventListener("click", async () => {
  $("run-matrix").disabled = true;
  try {
    const res = await fetch("/api/matrix", { method: "POST" });
    if (res.ok) draw(await res.json());
  } finally {
    $("run-matrix").disabled = false;
  }
});
refresh();
follow();
setInterval(refresh, 15000);
