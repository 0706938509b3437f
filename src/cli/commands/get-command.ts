import { stringify } from "yaml";
import type { WatchEvent } from "../../datastore/datastore.ts";
import { type CommandIo, defineCommand, Exited } from "../command.ts";
import { type CommandArgs, usageError } from "../command-args.ts";
import { NAMESPACE_OPTION, OUTPUT_FORMATS } from "../common-options.ts";
import { formatGetTable, formatNames } from "../format-objects.ts";
import { type GetQuery, type GetResult, getObjects, watchObjects } from "../get-objects.ts";
import { parseSelector } from "../parse-selector.ts";
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
  "nodes",
  "ippools",
  "ipamblocks",
] as const;

const GET_FORMATS = [...OUTPUT_FORMATS, "name"] as const;

/** What json and yaml print for a get: the object, or a kubectl List. */
const asJson = (r: GetResult) => (r.single ? r.items[0] : { apiVersion: "v1", kind: "List", items: r.items });

/** One watch event in the chosen format: a table row, `kind/name`, or a JSON line / YAML document. */
function printEvent(io: CommandIo, r: GetResult, e: WatchEvent, format: string): void {
  const one: GetResult = { ...r, single: false, items: [e.object] };
  if (format === "json") io.out(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  else if (format === "yaml") io.out(`---\n${stringify({ type: e.type, object: e.object })}`);
  else if (format === "name") io.out(formatNames(one));
  else {
    const row = formatGetTable(one, Date.now(), format === "wide").split("\n")[1] ?? "";
    io.out(`${row}${e.type === "DELETED" ? "  (deleted)" : ""}\n`);
  }
}

/** `get --watch`: the listing, then every change, until --watch-seconds or an interrupt. */
async function listAndWatch(
  args: CommandArgs,
  io: CommandIo,
  ds: Parameters<typeof getObjects>[0],
  q: GetQuery,
): Promise<Exited> {
  const format = args.get("output") ?? "table";
  const listed = await getObjects(ds, { ...q, name: undefined });
  if (q.name !== undefined) listed.items = listed.items.filter((o) => o.metadata.name === q.name);
  if (format === "json" || format === "yaml") {
    for (const o of listed.items) printEvent(io, listed, { type: "ADDED", object: o, revision: "" }, format);
  } else if (format === "name") io.out(formatNames(listed));
  else io.out(formatGetTable(listed, Date.now(), format === "wide"));
  const stop = new AbortController();
  const seconds = args.int("watch-seconds", 1, 86_400);
  const timer = seconds ? setTimeout(() => stop.abort(), seconds * 1000) : undefined;
  const interrupted = () => stop.abort();
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    await watchObjects(ds, q, listed, (e) => printEvent(io, listed, e, format), stop.signal);
  } finally {
    clearTimeout(timer);
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
  }
  return new Exited(0);
}

export const getCommand = defineCommand<GetResult>({
  path: ["get"],
  summary: "list or show Pods, Namespaces, NetworkPolicies, BGP objects, Nodes, IPPools, IPAMBlocks",
  description:
    `${OBJECTS_DESCRIPTION}\nKIND: pods (po), namespaces (ns), networkpolicies (netpol), bgpconfigurations (bgpconfig),\n` +
    "bgppeers, nodes (no), ippools,\n" +
    "ipamblocks (the last three are written by the agents: read-only). A pod NAME may be NS/POD.\n" +
    "-l takes kubectl's selector syntax (k=v, k!=v, k in (a,b), k notin (a,b), k, !k); --watch\n" +
    "prints the listing, then every change (json: one {type, object} per line) until interrupted.",
  args: [
    { name: "KIND", suggest: RESOURCE_KINDS },
    { name: "NAME", optional: true },
  ],
  options: [
    NAMESPACE_OPTION,
    { name: "all-namespaces", short: "A", description: "list across all namespaces" },
    { name: "selector", short: "l", value: "SELECTOR", description: "only objects whose labels match" },
    { name: "watch", short: "w", description: "after listing, print every change until interrupted" },
    { name: "watch-seconds", value: "N", description: "with --watch: stop after N seconds" },
    {
      name: "output",
      short: "o",
      value: "FORMAT",
      description: "table, json, yaml, wide (more columns) or name (kind/name per line)",
      default: "table",
      values: GET_FORMATS,
    },
    ...TARGET_OPTIONS,
  ],
  examples: [
    "tartan get pods -A",
    "tartan get pod shop/web -o yaml",
    "tartan get netpol -n shop",
    "tartan get nodes -o wide",
    "tartan get ipamblocks -o name",
    "tartan get pods -A -l app=web,tier!=db",
    "tartan get pods -n shop --watch",
  ],
  run: async (args, { io }) => {
    const [kindText, nameText] = args.positionals;
    const kind = resourceKind(kindText!, { readable: true });
    if (nameText !== undefined && args.flag("all-namespaces"))
      throw usageError("a NAME cannot be looked up across all namespaces (-A)", "tartan get");
    const selectorText = args.get("selector");
    if (selectorText !== undefined && nameText !== undefined)
      throw usageError("a NAME and a selector (-l) cannot be combined", "tartan get");
    if (args.has("watch-seconds") && !args.flag("watch"))
      throw usageError("--watch-seconds goes with --watch", "tartan get");
    const selector = selectorText === undefined ? undefined : parseSelector(selectorText);
    const named = nameText === undefined ? undefined : objectName(kind, nameText, args.get("namespace"));
    const watch = args.flag("watch");
    const q: GetQuery = {
      kind,
      name: named?.name,
      namespace: named ? named.namespace : args.get("namespace"),
      allNamespaces: args.flag("all-namespaces"),
      ...(selector ? { selector } : {}),
      heartbeats: !["json", "yaml", "name"].includes(args.get("output") ?? "table"),
    };
    return await onTarget(
      args,
      io,
      () => ({
        argv: [
          "get",
          ...args.positionals,
          ...(args.has("namespace") ? ["-n", args.get("namespace")!] : []),
          ...(args.flag("all-namespaces") ? ["-A"] : []),
          ...(selectorText !== undefined ? ["-l", selectorText] : []),
          ...(watch ? ["--watch"] : []),
          ...(args.has("watch-seconds") ? ["--watch-seconds", args.get("watch-seconds")!] : []),
        ],
      }),
      async (ds): Promise<GetResult | Exited> =>
        watch ? await listAndWatch(args, io, ds, q) : await getObjects(ds, q),
      { readOnly: true, stream: watch },
    );
  },
  json: asJson,
  render: (r, { wide, format }) => (format === "name" ? formatNames(r) : formatGetTable(r, Date.now(), wide)),
});
