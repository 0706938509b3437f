import type { Datastore } from "../datastore/datastore.ts";
import type { PodJoinRequest } from "../model/agent-api.ts";
import { K8S_API_VERSIONS, K8S_KINDS, type PodResource } from "../model/k8s-resources.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import { backoffMs } from "./backoff.ts";
import { CONTAINER_ID_ANNOTATION, recordPodIps } from "./pod-ips.ts";

/**
 * Pod joins whose IPs could not be written to the Pod because the datastore is away. The pod
 * still starts (its addresses came from the node's own blocks, its rules from what the agent
 * knows: `local()`); the IPs are written here, retried with backoff until the datastore takes
 * them, so other nodes' policies learn them once it is back. A leave drops a pending join.
 */
export class PendingPodIps {
  private readonly pending = new Map<string, PodJoinRequest>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;

  constructor(
    private readonly ds: Datastore,
    private readonly nodeName: string,
    private readonly onStored: (p: PodResource) => void,
    private readonly log: AgentLog,
  ) {}

  get size(): number {
    return this.pending.size;
  }

  add(req: PodJoinRequest): void {
    this.pending.set(`${req.namespace}/${req.name}`, req);
    this.schedule();
  }

  drop(namespace: string, name: string): void {
    this.pending.delete(`${namespace}/${name}`);
  }

  /** The Pod as it will be stored: the known one (if any) with the new IPs, else a minimal one. */
  local(known: PodResource | undefined, req: PodJoinRequest): PodResource {
    const podIPs = req.ips.map((ip) => ({ ip }));
    if (known)
      return {
        ...known,
        spec: { ...known.spec, nodeName: this.nodeName },
        status: { ...known.status, phase: "Running", podIPs },
      };
    return {
      apiVersion: K8S_API_VERSIONS.Pod!,
      kind: K8S_KINDS.pod,
      metadata: {
        name: req.name,
        namespace: req.namespace,
        annotations: { [CONTAINER_ID_ANNOTATION]: req.containerId },
      },
      spec: { nodeName: this.nodeName },
      status: { phase: "Running", podIPs },
    };
  }

  private schedule(): void {
    if (this.timer !== undefined || this.pending.size === 0) return;
    this.timer = setTimeout(() => void this.flush(), backoffMs(this.attempt++, 200, 5000));
    this.timer.unref?.();
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    for (const [key, req] of [...this.pending]) {
      try {
        const stored = await recordPodIps(this.ds, this.nodeName, req);
        if (this.pending.get(key) === req) this.pending.delete(key);
        this.onStored(stored);
        this.log("info", "pod IPs written after the datastore came back", { pod: key, ips: req.ips });
      } catch (e) {
        if (this.attempt % 10 === 1)
          this.log("warn", "pod IPs still not written; retrying", { pod: key, ...errorFields(e) });
        this.schedule();
        return;
      }
    }
    this.attempt = 0;
  }
}
