import { defineCommand } from "../command.ts";
import { usageError } from "../command-args.ts";
import { NAMESPACE_OPTION } from "../common-options.ts";
import { formatGetTable } from "../format-objects.ts";
import { type GetResult, getObjects } from "../get-objects.ts";
import { resourceKind } from "../resource-kind.ts";
import { OBJECTS_DESCRIPTION } from "./apply-command.ts";
import { objectName } from "./object-name.ts";
import { onTarget, TARGET_OPTIONS } from "./objects-target.ts";

export const RESOURCE_KINDS = [
  "pods",
  "namespaces",
  "networkpolicies",
  "bgpconfigurations",
  "bgppeers",
] as const;

export const getCommand = defineCommand<GetResult>({
  path: ["get"],
  summary: "list or show Pods, Namespaces, NetworkPolicies",
  description: `${OBJECTS_DESCRIPTION}\nKIND: pods (po), namespaces (ns), networkpolicies (netpol), bgpconfigurations (bgpconfig), bgppeers. A pod NAME may be NS/POD.`,
  args: [
    { name: "KIND", suggest: RESOURCE_KINDS },
    { name: "NAME", optional: true },
  ],
  options: [
    NAMESPACE_OPTION,
    { name: "all-namespaces", short: "A", description: "list across all namespaces" },
    ...TARGET_OPTIONS,
  ],
  examples: ["tartan get pods -A", "tartan get pod shop/web -o yaml", "tartan get netpol -n shop"],
  run: async (args, { io }) => {
    const [kindText, nameText] = args.positionals;
    const kind = resourceKind(kindText!);
    if (nameText !== undefined && args.flag("all-namespaces"))
      throw usageError("a NAME cannot be looked up across all namespaces (-A)", "tartan get");
    const named = nameText === undefined ? undefined : objectName(kind, nameText, args.get("namespace"));
    return await onTarget(
      args,
      io,
      () => ({
        argv: [
          "get",
          ...args.positionals,
          ...(args.has("namespace") ? ["-n", args.get("namespace")!] : []),
          ...(args.flag("all-namespaces") ? ["-A"] : []),
        ],
      }),
      (ds) =>
        getObjects(ds, {
          kind,
          name: named?.name,
          namespace: named ? named.namespace : args.get("namespace"),
          allNamespaces: args.flag("all-namespaces"),
        }),
      { readOnly: true },
    );
  },
  json: (r) => (r.single ? r.items[0] : { apiVersion: "v1", kind: "List", items: r.items }),
  render: (r) => formatGetTable(r),
});
