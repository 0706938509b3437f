import { ROUTING_BACKENDS, type RoutingBackendName } from "../../model/routing-backend.ts";
import { defineCommand, Exited } from "../command.ts";
import { renderManifest } from "../render-manifest.ts";

/**
 * `tartan manifest`: the install manifest (deploy/tartan.yaml, built into the executable) with
 * the cluster's settings, ready for `kubectl apply -f -`: a Kustomize-free way to set them.
 */
export const manifestCommand = defineCommand({
  path: ["manifest"],
  summary: "print the Kubernetes install manifest (deploy/tartan.yaml) with this cluster's settings",
  description:
    "Without options it prints deploy/tartan.yaml as it is. Only the ConfigMap's agent config and " +
    "the DaemonSet's image change; comments and everything else stay as in the file.",
  options: [
    {
      name: "pool-cidr",
      value: "CIDR",
      description: "a pod address pool (repeat for dual-stack; default 10.244.0.0/16)",
      multiple: true,
    },
    {
      name: "backend",
      value: "NAME",
      description: "routing between nodes (default vxlan)",
      values: ROUTING_BACKENDS,
    },
    {
      name: "mtu",
      value: "BYTES",
      description: "the pods' MTU; 0: underlay MTU less the backend's overhead",
    },
    {
      name: "underlay-interface",
      value: "IF",
      description:
        "the nodes' interface to each other: a name, interface=REGEX, cidr=CIDR[,CIDR] or default-route (the default)",
    },
    { name: "image", value: "IMAGE", description: "the tartan image (default localhost/tartan:VERSION)" },
  ],
  examples: [
    "tartan manifest | kubectl apply -f -",
    "tartan manifest --pool-cidr 10.50.0.0/16 --backend host-gw --mtu 1400 | kubectl apply -f -",
    "tartan manifest --pool-cidr 10.244.0.0/16 --pool-cidr fd00:10:244::/56 --image registry.example/tartan:0.1.0",
  ],
  run: async (args, ctx) => {
    const cidrs = args.all("pool-cidr");
    const backend = args.get("backend") as RoutingBackendName | undefined;
    const underlay = args.get("underlay-interface");
    const image = args.get("image");
    const mtu = args.int("mtu", 0, 65535);
    ctx.io.out(
      renderManifest({
        ...(cidrs.length ? { poolCidrs: cidrs } : {}),
        ...(backend ? { backend } : {}),
        ...(mtu !== undefined ? { mtu } : {}),
        ...(underlay ? { underlayInterface: underlay } : {}),
        ...(image ? { image } : {}),
      }),
    );
    return new Exited(0);
  },
});
