// One NetworkPolicy scenario on a NetpolLab: its steps (apply, delete, label) and matrix checks,
// then its policies deleted and its label changes undone, so cases are independent. The same
// procedure as test/e2e/netpol-scenarios.test.ts, shared here for the Kubernetes-mode run
// (test/e2e/netpol-kubernetes.test.ts).
import type { CaseContext, LabelChange, NetpolCase } from "./cases.ts";
import type { NetpolLab } from "./netpol-lab.ts";
import { formatDiff } from "./reachability.ts";

/** Labels the lab starts with: pods pod=<name>, namespaces ns=<name>. */
function originalLabel(l: LabelChange, key: string): string | undefined {
  if (l.kind === "pod") return key === "pod" ? l.name.split("/")[1] : undefined;
  return key === "ns" ? l.name : undefined;
}

async function restoreLabels(lab: NetpolLab, changed: LabelChange[]): Promise<void> {
  for (const l of changed) {
    const undo = l.changes.map((c) => {
      const key = c.endsWith("-") ? c.slice(0, -1) : c.split("=")[0]!;
      const v = originalLabel(l, key);
      return v === undefined ? `${key}-` : `${key}=${v}`;
    });
    await lab.label(l.kind, l.name, undo);
  }
}

/** Runs case `c`; pushes a result line; throws with the differing matrices when it fails. */
export async function runNetpolCase(lab: NetpolLab, c: NetpolCase, results: string[]): Promise<void> {
  const ctx: CaseContext = {
    ip4: (k) => lab.pod(k).ip4,
    ip6: (k) => {
      const ip = lab.pod(k).ip6;
      if (!ip) throw new Error(`pod ${k} has no IPv6 address (the lab is dual-stack)`);
      return ip;
    },
  };
  const failures: string[] = [];
  const changed: LabelChange[] = [];
  const t0 = performance.now();
  let rounds = 0;
  try {
    for (const step of c.steps(ctx)) {
      if (step.apply) await lab.apply(step.apply);
      if (step.delete) await lab.deleteObjects(step.delete);
      for (const l of step.label ?? []) {
        changed.push(l);
        await lab.label(l.kind, l.name, l.changes);
      }
      for (const check of step.checks) {
        const got = await lab.probeUntil(check, check.expect);
        rounds += got.rounds;
        const bad = check.expect.mismatches(got.reach);
        if (bad.length === 0) continue;
        const why = bad
          .map((m) => `  ${m.from} -> ${m.to}: ${got.cells.get(`${m.from}>${m.to}`)?.error ?? "reachable"}`)
          .join("\n");
        failures.push(
          [
            `case ${c.id}, step "${step.what}": ${check.protocol} ${check.port} over IPv${check.family ?? 4}, after ${got.rounds} probe rounds`,
            formatDiff(check.expect, got.reach),
            "probe errors of differing cells:",
            why,
          ].join("\n"),
        );
      }
    }
  } finally {
    await lab.deleteAllPolicies();
    await restoreLabels(lab, changed);
  }
  results.push(
    `${c.id.padEnd(10)} ${failures.length ? "FAIL" : "pass"}  ${Math.round(performance.now() - t0)} ms (${rounds} probe rounds)  ${c.title}`,
  );
  if (failures.length) throw new Error(failures.join("\n\n"));
}
