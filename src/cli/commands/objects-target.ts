import type { Datastore } from "../../datastore/datastore.ts";
import { openDatastore } from "../../datastore/open-datastore.ts";
import { run } from "../../exec/run.ts";
import type { CommandIo, OptionSpec } from "../command.ts";
import { Exited } from "../command.ts";
import type { CommandArgs } from "../command-args.ts";
import { LAB_OPTION } from "../common-options.ts";
import {
  type DatastoreTarget,
  datastoreTargetOf,
  etcdFlagsArgv,
  refuseMissingLocalStore,
} from "../datastore-target.ts";
import { requireRoot } from "../require-root.ts";
import { selfArgv } from "../self-argv.ts";

/** Where apply|delete|get|label act: a lab, a datastore, or an agent config's datastore. */
export const TARGET_OPTIONS: readonly OptionSpec[] = [
  LAB_OPTION,
  {
    name: "datastore",
    value: "WHERE",
    description:
      "an etcd: https://HOST:2379[,URL...] (or etcd=URL...), local=/path/to/datastore.db, or the Kubernetes API: kubernetes (in a pod) or kubernetes=KUBECONFIG",
  },
  {
    name: "config",
    value: "FILE",
    description: "use the datastore of this file (an agent config, or one with only a datastore: section)",
    complete: "file",
  },
  {
    name: "etcd-ca",
    value: "FILE",
    description: "with --datastore https://…: the CA of etcd's certificate",
    complete: "file",
  },
  {
    name: "etcd-cert",
    value: "FILE",
    description: "with --datastore: our client certificate (etcd --client-cert-auth)",
    complete: "file",
  },
  {
    name: "etcd-key",
    value: "FILE",
    description: "with --datastore: the client certificate's key",
    complete: "file",
  },
  { name: "etcd-user", value: "NAME", description: "with --datastore: an etcd user (etcd auth enabled)" },
  {
    name: "etcd-password-file",
    value: "FILE",
    description: "with --etcd-user: the file holding its password",
    complete: "file",
  },
];

/**
 * Runs `body` on the datastore the options name. A lab's etcd listens inside the lab's fabric
 * namespace, so for a lab this re-runs itself in there (`nsenter --net`) with `inner` as its
 * arguments plus `--datastore etcd=…`, and relays the output: the root namespace never needs a
 * route into the lab.
 */
export async function onTarget<D>(
  args: CommandArgs,
  io: CommandIo,
  inner: () => { argv: string[]; stdin?: string },
  body: (ds: Datastore) => Promise<D>,
  opts: { readOnly?: boolean; stream?: boolean } = {},
): Promise<D | Exited> {
  const target = datastoreTargetOf(args);
  if (target.type === "lab") {
    const { argv, stdin } = inner();
    return new Exited(
      await inLab(target, [...argv, "-o", args.get("output") ?? "table"], stdin, io, opts.stream ?? false),
    );
  }
  if (opts.readOnly) refuseMissingLocalStore(target.config);
  const ds = await openDatastore(target.config);
  try {
    return await body(ds);
  } finally {
    await ds.close();
  }
}

async function inLab(
  target: Extract<DatastoreTarget, { type: "lab" }>,
  args: string[],
  stdin: string | undefined,
  io: CommandIo,
  /** Relay output as it comes (`get --watch`), with no time limit: the user ends it. */
  stream = false,
): Promise<number> {
  requireRoot(`reaching lab "${target.lab}" (its etcd is inside network namespace ${target.netns})`);
  const r = await run(
    [...selfArgv(), ...args, "--datastore", target.endpoint, ...etcdFlagsArgv(target.tls)],
    {
      netns: `/run/netns/${target.netns}`,
      stdin: stdin ?? "",
      allowFailure: true,
      timeoutMs: stream ? 7 * 86_400_000 : 60_000,
      ...(stream ? { stream: { out: io.out, err: io.err } } : {}),
    },
  );
  io.out(r.stdout);
  io.err(r.stderr);
  return r.code;
}
