import { defineCommand, Exited } from "../../cli/command.ts";
import { LAB_OPTION } from "../../cli/common-options.ts";
import { kubeRequest } from "../kube-apiserver/kube-request.ts";
import { labKubectl } from "../lab-kubectl.ts";
import { labName } from "./lab-name.ts";

export const labKubectlCommand = defineCommand({
  path: ["lab", "kubectl"],
  summary: "run the real kubectl against the lab's API server (lab up --datastore kubernetes)",
  description:
    "Runs kubectl ($TARTAN_KUBECTL, else kubectl on the PATH) inside the lab's fabric namespace\n" +
    "with the lab's kubeconfig (/run/tartan-lab/LAB/kubeconfig). The API server is the lab's\n" +
    "stand-in (src/lab/kube-apiserver/README.md): no admission, RBAC or defaulting.",
  rest: "ARGS...",
  options: [LAB_OPTION],
  examples: [
    "tartan lab kubectl -- get pods -o wide",
    "tartan lab kubectl -- apply -f policy.yaml",
    "tartan lab kubectl --lab k8s -- get networkpolicies -A",
  ],
  needsRoot: true,
  run: async (args) => new Exited(await labKubectl(labName(args), [...args.rest])),
});

// Run by the lab itself inside its fabric namespace (as root already): hidden from help and completion.

export const labKubeApiServerCommand = defineCommand({
  path: ["lab", "kube-apiserver"],
  summary: "internal: the lab's stand-in Kubernetes API server (run in the fabric)",
  hidden: true,
  options: [{ name: "config", value: "FILE", description: "its JSON config", required: true }],
  // Loaded when run: the server pulls in the etcd client (etcd3, gRPC, its protos: ~200 ms of
  // start-up), which every other tartan command would otherwise pay.
  run: async (args) =>
    new Exited(
      await (await import("../kube-apiserver/run-kube-api-server.ts")).runKubeApiServer(args.get("config")!),
    ),
});

export const labKubeRequestCommand = defineCommand({
  path: ["lab", "kube-request"],
  summary: "internal: one request to the lab's API server (body on stdin), prints {status, body}",
  hidden: true,
  args: [{ name: "METHOD" }, { name: "PATH" }],
  options: [
    { name: "kubeconfig", value: "FILE", description: "the lab's kubeconfig", required: true },
    { name: "content-type", value: "TYPE", description: "of the body", default: "application/json" },
  ],
  run: async (args, { io }) => {
    const body = await Bun.stdin.text();
    const [method, path] = args.positionals as [string, string];
    const r = await kubeRequest(
      args.get("kubeconfig")!,
      method,
      path,
      body || undefined,
      args.get("content-type"),
    );
    io.out(`${JSON.stringify(r)}\n`);
    return new Exited(0);
  },
});
