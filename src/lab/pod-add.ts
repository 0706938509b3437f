import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { PodRef } from "../cli/pod-ref.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { callCni } from "./cni-call.ts";
import { createLabPod, reportLabPodIps } from "./lab-kube-pod.ts";
import { labObjectsCli } from "./lab-objects-cli.ts";
import { labPodManifest } from "./lab-pod-manifest.ts";
import type { LabPodPort } from "./lab-pod-ports.ts";
import type { LabPod } from "./lab-state.ts";
import { podNetnsName } from "./pod-netns-name.ts";
import { podRm } from "./pod-rm.ts";
import { processStartTime } from "./process-start-time.ts";
import { requireLabState } from "./require-lab-state.ts";
import { responderBanner } from "./responder.ts";
import { startInNetns } from "./start-in-netns.ts";
import { updateLabState } from "./update-lab-state.ts";
import { waitUntil } from "./wait-until.ts";

export const RESPONDER_PORT = 8080;

export interface PodAddOptions {
  lab: string;
  node: string;
  pod: PodRef;
  labels?: Record<string, string>;
  /** containers[].ports of the Pod object: what NetworkPolicy named ports resolve against. */
  ports?: LabPodPort[];
}

export interface LabPodView extends Omit<LabPod, "result" | "responder"> {
  responderPid?: number;
  /** The Pod object in the lab's datastore: "applied", or why it was not. */
  podObject?: string;
}

/**
 * `tartan lab pod add NODE POD`: a namespace for the pod, wired by the real plugin through the
 * real ADD path on that node, plus a TCP responder in it so connectivity can be probed. The pod
 * is recorded ("adding") before anything is created, and a failure removes what was made.
 */
export async function podAdd(o: PodAddOptions): Promise<LabPodView> {
  const { paths, state } = requireLabState(o.lab);
  const node = state.nodes.find((n) => n.name === o.node);
  if (!node) {
    throw new TartanError(
      "lab-no-node",
      `lab "${o.lab}" has no node "${o.node}"`,
      `nodes: ${state.nodes.map((n) => n.name).join(", ")}`,
    );
  }
  const netns = podNetnsName(paths.netnsPrefix, o.pod);
  const containerId = createHash("sha256").update(`${o.lab}/${o.pod.namespace}/${o.pod.name}`).digest("hex");
  const pod: LabPod = {
    namespace: o.pod.namespace,
    name: o.pod.name,
    node: node.name,
    netns,
    containerId,
    ifname: "eth0",
    state: "adding",
    ips: [],
    port: RESPONDER_PORT,
    labels: o.labels ?? {},
  };
  await updateLabState(paths, (s) => {
    if (s!.pods.some((p) => p.namespace === pod.namespace && p.name === pod.name)) {
      throw new TartanError(
        "lab-pod-exists",
        `pod ${pod.namespace}/${pod.name} already exists in lab "${o.lab}"`,
        `remove it first: tartan lab pod rm ${pod.namespace}/${pod.name}`,
      );
    }
    if (existsSync(`/run/netns/${netns}`) || s!.pods.some((p) => p.netns === netns)) {
      throw new TartanError("lab-pod-exists", `namespace ${netns} already exists`, "pick another pod name");
    }
    return { ...s!, pods: [...s!.pods, pod] };
  });

  let podObject = "skipped: etcd is not running";
  try {
    // The Pod object exists before the CNI ADD, as in a cluster: when the plugin asks the agent
    // about this pod, the agent knows its labels. During an etcd outage drill the pod still
    // starts (from the node's blocks), like a pod scheduled before the outage.
    const manifest = labPodManifest({ ...pod, labels: pod.labels, ports: o.ports ?? [] });
    if (state.kubeApi) {
      await createLabPod(state, manifest);
      podObject = "created through the Kubernetes API";
    } else if (state.etcd && processStartTime(state.etcd.pid) === state.etcd.startTime) {
      await labObjectsCli(state, ["apply", "-f", "-"], JSON.stringify(manifest));
      podObject = "applied";
    }
    await run(["ip", "netns", "add", netns]);
    await run(["ip", "-n", netns, "link", "set", "lo", "up"]);
    const netconf = JSON.parse(readFileSync(node.netconfFile, "utf8")) as Record<string, unknown>;
    const result = await callCni({
      command: "ADD",
      tartan: state.tartan,
      nodeNetns: node.netns,
      podNetns: netns,
      containerId,
      ifname: pod.ifname,
      podNamespace: pod.namespace,
      podName: pod.name,
      netconf,
    });
    const ips = ((result?.ips ?? []) as { address: string }[]).map((i) => i.address);
    // As kubelet does once the sandbox has its network: other nodes' agents learn the IPs here.
    if (state.kubeApi) await reportLabPodIps(state, pod.namespace, pod.name, node.underlayAddress, ips);
    mkdirSync(`${paths.dir}/pods`, { recursive: true, mode: 0o700 });
    const banner = responderBanner(pod.namespace, pod.name);
    const responder = await startInNetns(
      netns,
      [
        state.tartan,
        "lab",
        "responder",
        "--port",
        String(RESPONDER_PORT),
        "--banner",
        banner,
        // It also serves the pod's declared TCP/UDP container ports (SCTP: the lab has none).
        ...responderListen(o.ports ?? []),
      ],
      `${paths.dir}/pods/${pod.namespace}_${pod.name}.log`,
    );
    await updateLabState(paths, (s) => ({
      ...s!,
      pods: s!.pods.map((p) =>
        p.namespace === pod.namespace && p.name === pod.name
          ? { ...p, ips, result: result ?? undefined, responder }
          : p,
      ),
    }));
    // Generous bounds: on a loaded machine starting the responder and a probe can take seconds.
    await waitUntil("pod responder listening", 30_000, async () => {
      const r = await run(
        [
          "ip",
          "netns",
          "exec",
          netns,
          state.tartan,
          "lab",
          "probe",
          "tcp",
          "127.0.0.1",
          String(RESPONDER_PORT),
        ],
        { timeoutMs: 10_000 },
      );
      return r.stdout.trim() === banner ? true : undefined;
    });
    const final = await updateLabState(paths, (s) => ({
      ...s!,
      pods: s!.pods.map((p) =>
        p.namespace === pod.namespace && p.name === pod.name ? { ...p, state: "ready" as const } : p,
      ),
    }));
    const saved = final.pods.find((p) => p.namespace === pod.namespace && p.name === pod.name)!;
    return { ...viewOf(saved), podObject };
  } catch (e) {
    await podRm({ lab: o.lab, pod: o.pod }).catch(() => {});
    throw e;
  }
}

function responderListen(ports: LabPodPort[]): string[] {
  const listen = [
    ...new Set(
      ports
        .filter((p) => p.protocol !== "SCTP" && !(p.protocol === "TCP" && p.containerPort === RESPONDER_PORT))
        .map((p) => `${p.containerPort}/${p.protocol}`),
    ),
  ];
  return listen.length ? ["--listen", listen.join(",")] : [];
}

function viewOf(p: LabPod): LabPodView {
  const { result: _r, responder, ...rest } = p;
  return { ...rest, responderPid: responder?.pid };
}
