import { formatTable, type OutputFormat, report } from "../cli/report.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { formatMatrix } from "./format-matrix.ts";
import { labAgent } from "./lab-agent.ts";
import { type LabArgs, parseLabArgs } from "./lab-args.ts";
import { labDown } from "./lab-down.ts";
import { labEtcd } from "./lab-etcd.ts";
import { labExec } from "./lab-exec.ts";
import { labLabel } from "./lab-label.ts";
import { labLs } from "./lab-ls.ts";
import { labMatrix } from "./lab-matrix.ts";
import { parseLabPodPorts } from "./lab-pod-ports.ts";
import { LAB_BACKENDS, type LabBackend, type LabState } from "./lab-state.ts";
import { labUp } from "./lab-up.ts";
import { nodeAdd } from "./node-add.ts";
import { nodeRm, runForgetNode } from "./node-rm.ts";
import { podAdd } from "./pod-add.ts";
import { parsePodRef } from "./pod-ref.ts";
import { podRm } from "./pod-rm.ts";
import { runProbe } from "./probe.ts";
import { makeProgress } from "./progress.ts";
import { parseResponderListen, runResponder } from "./responder.ts";

export const LAB_HELP = `tartan lab — a whole cluster in network namespaces on this machine (root)

  tartan lab up [--nodes N] [--backend vxlan|host-gw|cross-subnet] [--subnets 1|2] [--ipv6] [--name NAME]
      fabric namespace tl-NAME-fabric (underlay bridges 198.18.0.0/24, 198.18.1.0/24), nodes
      tl-NAME-node-1..N with an agent each, etcd in the fabric. Defaults: 3 nodes, vxlan, name tartan;
      --ipv6: dual-stack pods (an IPv6 pool fd00:10:244::/56 besides 10.244.0.0/16).
  tartan lab pod add NODE POD [--namespace NS] [--labels k=v,...] [--ports name:port/proto,...]
      the Pod object (labels, node, named ports; its Namespace if missing) in the lab's etcd,
      then the real CNI ADD
  tartan lab pod rm POD                     CNI DEL, then remove the pod's namespace
  tartan lab label pod|namespace NAME k=v... k-...   change labels (what policies select on)
  tartan lab exec POD -- CMD...             run CMD inside the pod's network namespace
  tartan lab ls [-o table|json|yaml]        nodes (underlay address, state) and pods (node, IPs)
  tartan lab matrix [-o table|json|yaml]    ping + TCP from every pod to every other pod
  tartan lab down                           stop everything and remove every tl-NAME-* namespace
  tartan lab node add                       one more node (the next index) joins, with its agent
  tartan lab node rm NODE                   delete its pods, stop its agent, delete its Node and
                                            IPAMBlocks from etcd, remove its namespace
  tartan lab agent stop|start|restart NODE  drills: the agent by its PID, started as lab up does
  tartan lab etcd stop|start                drills: an etcd outage (same data dir on start)

  Every command takes --name NAME (default "tartan"); several labs can coexist.
  A pod is POD or NAMESPACE/POD (namespace "default").
`;

function formatOf(a: LabArgs): OutputFormat {
  const f = a.options.get("--output") ?? "table";
  if (f !== "table" && f !== "json" && f !== "yaml") {
    throw new TartanError("cli-usage", `unknown output format "${f}"`, "use -o table, json or yaml");
  }
  return f;
}

function intOption(a: LabArgs, name: string, dflt: number, min: number, max: number): number {
  const v = a.options.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new TartanError("cli-usage", `${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const kv of (text ?? "").split(",").filter(Boolean)) {
    const eq = kv.indexOf("=");
    if (eq <= 0)
      throw new TartanError(
        "cli-usage",
        `label "${kv}" is not key=value`,
        "e.g. --labels app=web,tier=front",
      );
    labels[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return labels;
}

function one(a: LabArgs, what: string): string {
  const [v, extra] = a.positional;
  if (!v || extra !== undefined)
    throw new TartanError("cli-usage", `expected ${what}`, "see tartan lab --help");
  return v;
}

const COMMON = ["--name", "--output"];
const out = (s: string) => process.stdout.write(s);

function upSummary(s: LabState): string {
  const table = formatTable(
    ["NODE", "NAMESPACE", "UNDERLAY", "AGENT PID"],
    s.nodes.map((n) => [n.name, n.netns, n.underlayAddress, n.agent ? String(n.agent.pid) : "-"]),
  );
  const flag = s.name === "tartan" ? "" : ` --name ${s.name}`;
  return (
    `${table}\nlab "${s.name}" is up (${s.backend}, etcd ${s.etcd?.endpoint ?? "-"} in ${s.fabric.netns}).\n` +
    `next: tartan lab pod add node-1 web${flag}; tartan lab matrix${flag}; tartan lab down${flag}\n`
  );
}

/** `tartan lab …`: each subcommand returns data; this prints it (or its JSON/YAML). */
export async function runLabCli(args: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = args;
    if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
      out(LAB_HELP);
      return cmd ? 0 : 2;
    }
    if (cmd === "up") {
      const a = parseLabArgs(
        rest,
        [...COMMON, "--nodes", "--backend", "--subnets"],
        ["--no-agents", "--ipv6"],
      );
      const backend = (a.options.get("--backend") ?? "vxlan") as LabBackend;
      if (!LAB_BACKENDS.includes(backend)) {
        throw new TartanError("cli-usage", `unknown backend "${backend}"`, `use ${LAB_BACKENDS.join(", ")}`);
      }
      const name = a.options.get("--name") ?? "tartan";
      // A ^C halfway must not leave half a lab behind.
      process.once("SIGINT", () => {
        process.stderr.write("\ninterrupted: removing the partial lab\n");
        labDown(name).finally(() => process.exit(130));
      });
      const state = await labUp(
        {
          name,
          nodes: intOption(a, "--nodes", 3, 1, 200),
          backend,
          subnets: intOption(a, "--subnets", backend === "cross-subnet" ? 2 : 1, 1, 2),
          agents: !a.flags.has("--no-agents"),
          ipv6: a.flags.has("--ipv6"),
        },
        makeProgress(process.stderr),
      );
      out(report(state, formatOf(a), upSummary));
      return 0;
    }
    if (cmd === "down") {
      const a = parseLabArgs(rest, COMMON);
      const r = await labDown(a.options.get("--name") ?? "tartan");
      out(
        report(r, formatOf(a), () =>
          !r.existed
            ? `lab "${r.name}" was not up: nothing to remove\n`
            : `lab "${r.name}" removed: ${r.stopped.length} processes stopped (${r.stopped.map((s) => s.what).join(", ") || "none"}), ` +
              `${r.namespaces.length} namespaces deleted${r.leftovers.length ? `; LEFT: ${r.leftovers.join(", ")}` : ""}\n`,
        ),
      );
      return r.leftovers.length ? 1 : 0;
    }
    if (cmd === "pod") {
      const [sub, ...more] = rest;
      if (sub === "add") {
        const a = parseLabArgs(more, [...COMMON, "--namespace", "--labels", "--ports"]);
        const [node, pod, extra] = a.positional;
        if (!node || !pod || extra) throw new TartanError("cli-usage", "usage: tartan lab pod add NODE POD");
        const p = await podAdd({
          lab: a.options.get("--name") ?? "tartan",
          node,
          pod: parsePodRef(pod, a.options.get("--namespace")),
          labels: parseLabels(a.options.get("--labels")),
          ports: parseLabPodPorts(a.options.get("--ports")),
        });
        out(
          report(
            p,
            formatOf(a),
            () => `pod ${p.namespace}/${p.name} on ${p.node}: ${p.ips.join(", ")} (${p.netns})\n`,
          ),
        );
        return 0;
      }
      if (sub === "rm") {
        const a = parseLabArgs(more, [...COMMON, "--namespace"]);
        const r = await podRm({
          lab: a.options.get("--name") ?? "tartan",
          pod: parsePodRef(one(a, "POD"), a.options.get("--namespace")),
        });
        out(
          report(
            r,
            formatOf(a),
            () => `pod ${r.pod} removed from ${r.node} (released ${r.released.join(", ") || "nothing"})\n`,
          ),
        );
        return 0;
      }
      throw new TartanError(
        "cli-usage",
        `unknown command "lab pod ${sub ?? ""}"`,
        "use lab pod add or lab pod rm",
      );
    }
    if (cmd === "label") {
      const a = parseLabArgs(rest, [...COMMON, "--namespace"]);
      const [kind, target, ...changes] = a.positional;
      if ((kind !== "pod" && kind !== "namespace") || !target) {
        throw new TartanError("cli-usage", "usage: tartan lab label pod|namespace NAME k=v... k-...");
      }
      const ref = kind === "pod" ? parsePodRef(target, a.options.get("--namespace")) : undefined;
      const obj = await labLabel({
        lab: a.options.get("--name") ?? "tartan",
        kind,
        name: ref?.name ?? target,
        namespace: ref?.namespace ?? "",
        changes,
      });
      const labels = Object.entries(obj.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
      out(
        report(
          obj,
          formatOf(a),
          () =>
            `${kind} ${ref ? `${ref.namespace}/` : ""}${obj.metadata.name}: ${labels.join(",") || "no labels"}\n`,
        ),
      );
      return 0;
    }
    if (cmd === "exec") {
      const a = parseLabArgs(rest, ["--name", "--namespace"]);
      if (a.rest.length === 0) throw new TartanError("cli-usage", "usage: tartan lab exec POD -- CMD...");
      return await labExec(
        a.options.get("--name") ?? "tartan",
        parsePodRef(one(a, "POD"), a.options.get("--namespace")),
        a.rest,
      );
    }
    if (cmd === "ls") {
      const a = parseLabArgs(rest, COMMON);
      const l = await labLs(a.options.get("--name") ?? "tartan");
      out(
        report(l, formatOf(a), () =>
          [
            `lab ${l.name}: backend ${l.backend}, ${l.subnets} underlay subnet(s), etcd ${l.etcd.endpoint ?? "-"} ${l.etcd.running ? "running" : "STOPPED"}\n`,
            formatTable(
              ["NODE", "UNDERLAY", "SUBNET", "STATE", "AGENT PID"],
              l.nodes.map((n) => [
                n.name,
                n.underlayAddress,
                n.underlaySubnet,
                n.state,
                n.agentPid ? String(n.agentPid) : "-",
              ]),
            ),
            l.pods.length
              ? `\n${formatTable(
                  ["POD", "NODE", "IPS", "STATE", "NAMESPACE (netns)"],
                  l.pods.map((p) => [p.pod, p.node, p.ips.join(",") || "-", p.state, p.netns]),
                )}`
              : "\nno pods (tartan lab pod add NODE POD)\n",
          ].join(""),
        ),
      );
      return 0;
    }
    if (cmd === "matrix") {
      const a = parseLabArgs(rest, [...COMMON, "--timeout-ms"]);
      const m = await labMatrix(
        a.options.get("--name") ?? "tartan",
        intOption(a, "--timeout-ms", 2000, 100, 60_000),
      );
      out(report(m, formatOf(a), formatMatrix));
      return m.ok ? 0 : 1;
    }
    if (cmd === "node") {
      const [sub, ...more] = rest;
      const a = parseLabArgs(more, COMMON);
      const lab = a.options.get("--name") ?? "tartan";
      if (sub === "add" && a.positional.length === 0) {
        const n = await nodeAdd(lab);
        out(
          report(
            n,
            formatOf(a),
            () => `${n.name} joined: ${n.netns}, ${n.underlayAddress}, agent pid ${n.agent?.pid ?? "-"}\n`,
          ),
        );
        return 0;
      }
      if (sub === "rm") {
        const r = await nodeRm(lab, one(a, "NODE"));
        out(
          report(
            r,
            formatOf(a),
            () =>
              `${r.node} removed: pods ${r.pods.join(", ") || "none"}, agent ${r.agentStopped ?? "not running"}, ` +
              `datastore: Node ${r.datastore.nodeDeleted ? "deleted" : "absent"}, blocks ${r.datastore.blocks.join(", ") || "none"}\n`,
          ),
        );
        return 0;
      }
      throw new TartanError("cli-usage", "usage: tartan lab node add | tartan lab node rm NODE");
    }
    if (cmd === "agent") {
      const [sub, ...more] = rest;
      if (sub !== "stop" && sub !== "start" && sub !== "restart") {
        throw new TartanError("cli-usage", "usage: tartan lab agent stop|start|restart NODE");
      }
      const a = parseLabArgs(more, COMMON);
      const r = await labAgent(a.options.get("--name") ?? "tartan", one(a, "NODE"), sub);
      out(
        report(
          r,
          formatOf(a),
          () => `agent of ${r.node}: stopped ${r.stopped ?? "-"}, started ${r.started ?? "-"}\n`,
        ),
      );
      return 0;
    }
    if (cmd === "etcd") {
      const [sub, ...more] = rest;
      if (sub !== "stop" && sub !== "start")
        throw new TartanError("cli-usage", "usage: tartan lab etcd stop|start");
      const a = parseLabArgs(more, COMMON);
      const r = await labEtcd(a.options.get("--name") ?? "tartan", sub);
      out(report(r, formatOf(a), () => `etcd: stopped ${r.stopped ?? "-"}, started ${r.started ?? "-"}\n`));
      return 0;
    }
    // Internal: run by the lab inside its namespaces (pod responders, probes of the matrix).
    if (cmd === "forget-node") {
      const a = parseLabArgs(rest, ["--etcd"]);
      const etcd = a.options.get("--etcd");
      if (!etcd) throw new TartanError("cli-usage", "usage: tartan lab forget-node NODE --etcd URL");
      out(`${JSON.stringify(await runForgetNode(etcd, one(a, "NODE")))}\n`);
      return 0;
    }
    if (cmd === "responder") {
      const a = parseLabArgs(rest, ["--port", "--banner", "--listen"]);
      return await runResponder(
        intOption(a, "--port", 8080, 1, 65535),
        a.options.get("--banner") ?? "tartan-lab",
        parseResponderListen(a.options.get("--listen")),
      );
    }
    if (cmd === "probe") {
      const a = parseLabArgs(rest, ["--timeout-ms"]);
      out(`${await runProbe(a.positional, intOption(a, "--timeout-ms", 2000, 100, 60_000))}\n`);
      return 0;
    }
    throw new TartanError("cli-usage", `unknown command "lab ${cmd}"`, "see tartan lab --help");
  } catch (e) {
    if (e instanceof TartanError) {
      process.stderr.write(`tartan: ${e.full}\n`);
      return e.code === "cli-usage" ? 2 : 1;
    }
    throw e;
  }
}
