import { etcdFlagsArgv } from "../cli/datastore-target.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { LabState } from "./lab-state.ts";

/**
 * Runs `tartan apply|delete|get|label …` against the lab's etcd, from inside the fabric
 * namespace where etcd listens (the lab's own executable, `--datastore URL` and the lab's client
 * certificate). Returns stdout;
 * a failure becomes a TartanError carrying the command's own message.
 */
export async function labObjectsCli(state: LabState, args: string[], stdin?: string): Promise<string> {
  if (!state.etcd) {
    throw new TartanError(
      "lab-no-etcd",
      `lab "${state.name}" has no etcd recorded`,
      `recreate it: tartan lab down --lab ${state.name}; tartan lab up --lab ${state.name}`,
    );
  }
  const r = await run(
    [
      "ip",
      "netns",
      "exec",
      state.fabric.netns,
      state.tartan,
      ...args,
      "--datastore",
      state.etcd.endpoint,
      ...etcdFlagsArgv(state.etcd.tls),
    ],
    {
      stdin: stdin ?? "",
      allowFailure: true,
      timeoutMs: 30_000,
    },
  );
  if (r.code !== 0) {
    throw new TartanError(
      "lab-objects-failed",
      `tartan ${args[0]} in lab "${state.name}" failed: ${r.stderr.trim().replace(/^tartan: /, "") || r.stdout.trim()}`,
      `is the lab's etcd up? (tartan lab ls --lab ${state.name})`,
    );
  }
  return r.stdout;
}
