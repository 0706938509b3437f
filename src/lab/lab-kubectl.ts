import { existsSync, mkdirSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { runAttached } from "../exec/run-attached.ts";
import { requireLabState } from "./require-lab-state.ts";

/** The kubectl to run: $TARTAN_KUBECTL, else `kubectl` on the PATH. */
export function findKubectl(): string {
  const given = process.env.TARTAN_KUBECTL;
  if (given) {
    if (!existsSync(given)) throw new TartanError("lab-no-kubectl", `TARTAN_KUBECTL=${given} does not exist`);
    return given;
  }
  const found = Bun.which("kubectl");
  if (!found) {
    throw new TartanError(
      "lab-no-kubectl",
      "kubectl is not installed",
      "install one, or unpack Debian's: bash scripts/ensure-kubectl.sh, then TARTAN_KUBECTL=$PWD/.tools/kubectl-1.20/usr/bin/kubectl",
    );
  }
  return found;
}

/**
 * `tartan lab kubectl -- ARGS`: the real kubectl against the lab's API server (`lab up
 * --datastore kubernetes`), from inside the fabric namespace where it listens, with the lab's
 * kubeconfig and a discovery cache of the lab's own (every lab serves on the same address).
 * Attached to the terminal; returns kubectl's exit status.
 */
export async function labKubectl(lab: string, args: string[]): Promise<number> {
  const { state } = requireLabState(lab);
  if (!state.kubeApi) {
    throw new TartanError(
      "lab-no-datastore",
      `lab "${lab}" has no Kubernetes API server (it keeps its objects in etcd)`,
      `start one with it: tartan lab down --lab ${lab}; tartan lab up --lab ${lab} --datastore kubernetes`,
    );
  }
  const kubectl = findKubectl();
  const cache = `${state.dir}/kube-cache`;
  mkdirSync(cache, { recursive: true, mode: 0o700 });
  return await runAttached([
    ...["ip", "netns", "exec", state.fabric.netns, kubectl],
    ...["--kubeconfig", state.kubeApi.kubeconfig, "--cache-dir", cache],
    ...args,
  ]);
}
