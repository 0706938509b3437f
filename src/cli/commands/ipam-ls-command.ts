import { DEFAULT_IPAM_DIR } from "../../model/default-paths.ts";
import { defineCommand } from "../command.ts";
import { type IpamListing, ipamList } from "../ipam-list.ts";
import { formatTable } from "../report.ts";

export const ipamLsCommand = defineCommand<IpamListing>({
  path: ["ipam", "ls"],
  summary: "list the address reservations of a local IPAM store",
  description: "Read-only: opens the store read-only and never creates a directory or a database.",
  options: [
    {
      name: "data-dir",
      value: "DIR",
      description: "the IPAM store's directory (the plugin's ipam.dataDir)",
      default: DEFAULT_IPAM_DIR,
      complete: "dir",
    },
    { name: "network", value: "NAME", description: "only this network" },
  ],
  examples: ["tartan ipam ls", "tartan ipam ls --data-dir /run/tartan-lab/tartan/node-1/ipam -o json"],
  run: async (args, ctx) => {
    const dir = args.get("data-dir")!;
    if (!ctx.openIpamStoreReadOnly)
      throw new Error("tartan ipam ls: no IPAM store opener (main.ts passes it)");
    const store = ctx.openIpamStoreReadOnly(dir);
    try {
      return ipamList(store, dir, args.get("network"));
    } finally {
      store.close();
    }
  },
  // wide: the whole container id and the range set each address came from.
  render: (d, { wide }) =>
    formatTable(
      ["NETWORK", "ADDRESS", "CONTAINER", "IFNAME", ...(wide ? ["RANGE"] : [])],
      d.networks.flatMap((n) =>
        n.allocations.map((a) => [
          n.network,
          a.ip,
          wide ? a.containerId : a.containerId.slice(0, 12),
          a.ifname,
          ...(wide ? [a.rangeKey] : []),
        ]),
      ),
    ),
});
