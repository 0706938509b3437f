// The thin plugin of a resident process model (issue 11 point 1, what would close ADD ≤ 0.8× and
// DEL ≤ 0.5×): a runtime starts this instead of the plugin; it reads the network config, hands it
// and the CNI_* environment to a long-running process over a unix socket (the config's
// "residentSocket") and prints that process's answer. Compiled by bench/cni-resident.ts exactly as
// the plugin is, so its start-up is what such a plugin would cost. A benchmark prototype only:
// not shipped, no fallback when nothing listens.
import { readVersionStdin } from "../../src/cni/read-version-stdin.ts";
import { unixAsk } from "./unix-ask.ts";

const FORWARDED = [
  "CNI_COMMAND",
  "CNI_CONTAINERID",
  "CNI_NETNS",
  "CNI_IFNAME",
  "CNI_ARGS",
  "CNI_PATH",
  "PATH",
];

async function main(): Promise<number> {
  const stdin = await readVersionStdin();
  const socket = (JSON.parse(stdin) as { residentSocket?: string }).residentSocket;
  if (!socket) throw new Error('the network config names no "residentSocket"');
  const env: Record<string, string> = {};
  for (const k of FORWARDED) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  const out = JSON.parse(await unixAsk(socket, `${JSON.stringify({ env, stdin })}\n`)) as {
    stdout: string;
    stderr?: string;
    exitCode: number;
  };
  await Promise.all([Bun.write(Bun.stdout, out.stdout), out.stderr ? Bun.write(Bun.stderr, out.stderr) : 0]);
  return out.exitCode;
}

main().then(
  (code) => process.exit(code),
  async (e) => {
    await Bun.write(Bun.stderr, `forward-shim: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
