import type { PodRef } from "../cli/pod-ref.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type LabPaths, labPaths } from "./lab-paths.ts";
import type { LabPod, LabState } from "./lab-state.ts";
import { readLabState } from "./read-lab-state.ts";

export interface LabContext {
  paths: LabPaths;
  state: LabState;
  /** The pod, or a lab-no-pod error naming the pods there are. */
  pod(ref: PodRef): LabPod;
}

/** The state of a lab that must be up, with a useful error when it is not. */
export function requireLabState(name: string): LabContext {
  const paths = labPaths(name);
  const state = readLabState(paths);
  if (!state) {
    throw new TartanError("lab-not-up", `lab "${name}" is not up`, `start it: tartan lab up --lab ${name}`);
  }
  return {
    paths,
    state,
    pod(ref) {
      const pod = state.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
      if (!pod) {
        const known = state.pods.map((p) => `${p.namespace}/${p.name}`).join(", ") || "none";
        throw new TartanError(
          "lab-no-pod",
          `lab "${name}" has no pod ${ref.namespace}/${ref.name}`,
          `pods: ${known}; add one with tartan lab pod add NODE POD`,
        );
      }
      return pod;
    },
  };
}
