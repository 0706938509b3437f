import { dirname, resolve } from "node:path";
import { defineCommand } from "../command.ts";
import { type InstallReport, installPlugin } from "../install-plugin.ts";
import { formatTable } from "../report.ts";

/**
 * Where the plugin executables are by default: `cni/` beside this executable (the build's
 * dist/cni, the image's /opt/tartan/cni); from source, the repository's dist/cni.
 */
function defaultSource(): string {
  const fromSource = /\/bun[^/]*$/.test(process.execPath);
  return fromSource ? resolve(import.meta.dir, "../../../dist/cni") : `${dirname(process.execPath)}/cni`;
}

export const installCommand = defineCommand<InstallReport>({
  path: ["install"],
  summary: "install the CNI plugin executables into the CNI bin directory (atomically, verified)",
  description:
    "Copies tartan and tartan-ipam to a temporary name in the target directory, fsyncs, renames " +
    "over the old ones (a running plugin keeps its file: no 'text file busy') and reads every file " +
    "back to compare its sha256 with the source's. Files already there with the same content are " +
    "left alone. The DaemonSet's init container runs it with --to /host/opt/cni/bin.",
  options: [
    {
      name: "from",
      value: "DIR",
      description: "the directory holding the plugin executables (default: cni/ beside this executable)",
      complete: "dir",
    },
    {
      name: "to",
      value: "DIR",
      description: "the CNI bin directory",
      default: "/opt/cni/bin",
      complete: "dir",
    },
  ],
  examples: ["tartan install", "tartan install --to /host/opt/cni/bin -o json"],
  run: async (args) => installPlugin(args.get("from") ?? defaultSource(), args.get("to")!),
  render: (r) =>
    formatTable(
      ["FILE", "ACTION", "SHA256"],
      r.files.map((f) => [`${r.to}/${f.name}`, f.action, f.sha256 ?? `-> ${f.linkTarget}`]),
    ),
});
