import { TartanError } from "../errors/tartan-error.ts";
import type { Resource } from "../model/resource.ts";
import { labelLabObject } from "./lab-kube-pod.ts";
import { labObjectsCli } from "./lab-objects-cli.ts";
import { requireLabState } from "./require-lab-state.ts";
import { updateLabState } from "./update-lab-state.ts";

export interface LabLabelOptions {
  lab: string;
  kind: "pod" | "namespace";
  name: string;
  /** For pods. */
  namespace: string;
  /** `k=v` to set, `k-` to remove. */
  changes: string[];
}

/**
 * `tartan lab label pod|namespace NAME k=v k-`: changes labels of the lab's Pod or Namespace
 * object (what policies select on) through `tartan label` against the lab's etcd, and keeps the
 * pod's labels in the lab state in step. Returns the object as stored.
 */
export async function labLabel(o: LabLabelOptions): Promise<Resource> {
  const { paths, state } = requireLabState(o.lab);
  if (o.changes.length === 0) {
    throw new TartanError(
      "cli-usage",
      "no label changes given",
      "e.g. tartan lab label pod web app=api tier-",
    );
  }
  const args = ["label", o.kind, o.name, ...o.changes, "-o", "json"];
  if (o.kind === "pod") args.push("-n", o.namespace);
  const obj = state.kubeApi
    ? await labelLabObject(state, o.kind, o.namespace, o.name, o.changes)
    : (JSON.parse(await labObjectsCli(state, args)) as Resource);
  if (o.kind === "pod") {
    await updateLabState(paths, (s) => ({
      ...s!,
      pods: s!.pods.map((p) =>
        p.namespace === o.namespace && p.name === o.name ? { ...p, labels: obj.metadata.labels ?? {} } : p,
      ),
    }));
  }
  return obj;
}
