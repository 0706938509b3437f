import { defineCommand, Exited } from "../../cli/command.ts";
import { TartanError } from "../../errors/tartan-error.ts";
import { runForgetNode } from "../node-rm.ts";
import { runProbe } from "../probe.ts";
import { parseResponderListen, runResponder } from "../responder.ts";

// Run by the lab itself inside its namespaces (as root already): hidden from help and completion.

export const labForgetNodeCommand = defineCommand({
  path: ["lab", "forget-node"],
  summary: "internal: delete a node's Node and IPAMBlocks from etcd (run in the fabric)",
  hidden: true,
  args: [{ name: "NODE" }],
  options: [
    { name: "etcd", value: "URL", description: "the lab's etcd", required: true },
    { name: "etcd-ca", value: "FILE", description: "the lab CA" },
    { name: "etcd-cert", value: "FILE", description: "the lab's client certificate" },
    { name: "etcd-key", value: "FILE", description: "its key" },
  ],
  run: async (args, { io }) => {
    const ca = args.get("etcd-ca");
    const cert = args.get("etcd-cert");
    const key = args.get("etcd-key");
    const tls = ca ? { caFile: ca, ...(cert && key ? { certFile: cert, keyFile: key } : {}) } : undefined;
    io.out(`${JSON.stringify(await runForgetNode(args.get("etcd")!, args.positionals[0]!, tls))}\n`);
    return new Exited(0);
  },
});

export const labResponderCommand = defineCommand({
  path: ["lab", "responder"],
  summary: "internal: a pod's TCP/UDP responder",
  hidden: true,
  options: [
    { name: "port", value: "PORT", description: "the main TCP port", default: "8080" },
    { name: "banner", value: "TEXT", description: "what it answers", default: "tartan-lab" },
    { name: "listen", value: "PORT/PROTO,...", description: "more ports" },
  ],
  run: async (args) => {
    let listen: ReturnType<typeof parseResponderListen>;
    try {
      listen = parseResponderListen(args.get("listen"));
    } catch (e) {
      throw new TartanError("cli-usage", (e as Error).message);
    }
    return new Exited(await runResponder(args.int("port", 1, 65535)!, args.get("banner")!, listen));
  },
});

export const labProbeCommand = defineCommand({
  path: ["lab", "probe"],
  summary: "internal: tcp|udp HOST[,HOST...] PORT | http URL, from inside a lab namespace",
  hidden: true,
  args: [{ name: "ARG", variadic: true }],
  options: [{ name: "timeout-ms", value: "MS", description: "per probe", default: "2000" }],
  run: async (args, { io }) => {
    io.out(`${await runProbe([...args.positionals], args.int("timeout-ms", 100, 60_000)!)}\n`);
    return new Exited(0);
  },
});
