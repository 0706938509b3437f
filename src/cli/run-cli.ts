import { DEFAULT_IPAM_DIR } from "../cni/cni-request.ts";
import { openSqliteIpamStore } from "../datastore/local/sqlite-ipam-store.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { type IpamListing, ipamList } from "./ipam-list.ts";
import { OBJECT_COMMANDS, OBJECTS_HELP, objectsCommand } from "./objects-command.ts";
import { POLICY_HELP, policyCommand } from "./policy-command.ts";
import { formatTable, type OutputFormat, report } from "./report.ts";
import { type VersionInfo, versionInfo } from "./version-info.ts";

const HELP = `tartan — container networking for Kubernetes (CNI plugin, IPAM, CLI in one executable)

Usage:
  tartan version [-o table|json|yaml]        print the version and the CNI versions spoken
  tartan ipam ls [--data-dir DIR] [--network NAME] [-o table|json|yaml]
                                             list address reservations of a local IPAM store
  tartan agent --config FILE                 run the node agent (YAML/JSON config; socket API and
                                             metrics; SIGTERM stops it and leaves the kernel as is)
${OBJECTS_HELP}${POLICY_HELP}  tartan lab up|down|ls|matrix|pod add|pod rm|exec ...
                                             a whole cluster in network namespaces on this
                                             machine (tartan lab --help)
  tartan --help                              this text

As a CNI plugin: install dist/cni/tartan (built beside this file) as /opt/cni/bin/tartan, and a
symlink tartan-ipam to it for IPAM-only delegation; the runtime runs it with CNI_COMMAND set.
See README.md.
`;

function option(args: string[], ...names: string[]): string | undefined {
  for (const n of names) {
    const i = args.indexOf(n);
    if (i >= 0) {
      const v = args[i + 1];
      if (v === undefined || v.startsWith("-"))
        throw new TartanError("cli-usage", `${n} needs a value`, "see tartan --help");
      return v;
    }
  }
  return undefined;
}

function formatOf(args: string[]): OutputFormat {
  const f = option(args, "-o", "--output") ?? "table";
  if (f !== "table" && f !== "json" && f !== "yaml") {
    throw new TartanError("cli-usage", `unknown output format "${f}"`, "use -o table, json or yaml");
  }
  return f;
}

/** The CLI: parses argv, runs one command that returns data, prints it through the reporter. */
export async function runCli(args: string[]): Promise<number> {
  try {
    const [cmd, sub] = args;
    if (!cmd || cmd === "--help" || cmd === "-h" || cmd === "help") {
      process.stdout.write(HELP);
      return cmd ? 0 : 2;
    }
    if (cmd === "version" || cmd === "--version") {
      process.stdout.write(
        report(
          versionInfo(),
          formatOf(args),
          (v: VersionInfo) =>
            `tartan ${v.version} (${v.runtime}); CNI versions ${v.cniVersions.join(", ")}\n`,
        ),
      );
      return 0;
    }
    if ((OBJECT_COMMANDS as readonly string[]).includes(cmd)) return await objectsCommand(args);
    if (cmd === "policy") return await policyCommand(args.slice(1), (t) => process.stdout.write(t));
    if (cmd === "ipam" && sub === "ls") {
      const dir = option(args, "--data-dir") ?? DEFAULT_IPAM_DIR;
      const store = openSqliteIpamStore(dir);
      try {
        const data = ipamList(store, dir, option(args, "--network"));
        process.stdout.write(
          report(data, formatOf(args), (d: IpamListing) =>
            formatTable(
              ["NETWORK", "ADDRESS", "CONTAINER", "IFNAME"],
              d.networks.flatMap((n) =>
                n.allocations.map((a) => [n.network, a.ip, a.containerId.slice(0, 12), a.ifname]),
              ),
            ),
          ),
        );
      } finally {
        store.close();
      }
      return 0;
    }
    throw new TartanError("cli-usage", `unknown command "${args.join(" ")}"`, "see tartan --help");
  } catch (e) {
    if (e instanceof TartanError) {
      process.stderr.write(`tartan: ${e.full}\n`);
      return e.code === "cli-usage" ? 2 : 1;
    }
    throw e;
  }
}
