import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** What a pod's responder answers: who it is, so a probe can tell the right pod answered. */
export function responderBanner(namespace: string, pod: string): string {
  return `tartan-lab ${namespace}/${pod}`;
}

/** One more port the responder serves besides its TCP port (the pod's declared container ports). */
export interface ResponderListen {
  port: number;
  protocol: "TCP" | "UDP";
}

/** `80/TCP,81/udp` → listens (what `pod add` passes as `--listen`). */
export function parseResponderListen(text: string | undefined): ResponderListen[] {
  return (text ?? "")
    .split(",")
    .filter(Boolean)
    .map((item) => {
      const [port, proto = "TCP"] = item.split("/");
      const protocol = proto.toUpperCase();
      if (!/^\d+$/.test(port ?? "") || (protocol !== "TCP" && protocol !== "UDP")) {
        throw new Error(`--listen "${item}" is not PORT/TCP|UDP`);
      }
      return { port: Number(port), protocol };
    });
}

async function listenTcp(port: number, host: string, banner: string): Promise<void> {
  const server = createServer((sock) => {
    sock.on("error", () => {});
    sock.end(`${banner}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, ...(host === "::" ? { ipv6Only: true } : {}) }, () => resolve());
  });
}

/** UDP: every datagram is answered with the banner, to its sender. */
async function listenUdp(port: number, family: 4 | 6, banner: string): Promise<void> {
  const sock = createSocket({ type: family === 4 ? "udp4" : "udp6", ipv6Only: family === 6 });
  sock.on("message", (_msg, rinfo) => sock.send(`${banner}\n`, rinfo.port, rinfo.address));
  sock.on("error", () => {});
  await new Promise<void>((resolve, reject) => {
    sock.once("error", reject);
    sock.bind(port, family === 4 ? "0.0.0.0" : "::", () => resolve());
  });
}

/**
 * `tartan lab responder`: in a pod namespace, a TCP server that writes its banner line to every
 * connection and closes it, on `port` and on every `--listen` port (UDP ones answer each
 * datagram with the banner), over IPv4 and IPv6. The extra ports listen before the main one, so
 * a pod whose main port answers serves them all. Runs until killed.
 */
export async function runResponder(
  port: number,
  banner: string,
  extra: ResponderListen[] = [],
): Promise<never> {
  const all = async (l: ResponderListen) => {
    if (l.protocol === "UDP") {
      await listenUdp(l.port, 4, banner);
      await listenUdp(l.port, 6, banner).catch(() => {}); // no IPv6 in this namespace
    } else {
      await listenTcp(l.port, "0.0.0.0", banner);
      await listenTcp(l.port, "::", banner).catch(() => {});
    }
  };
  await Promise.all(extra.map(all));
  await all({ port, protocol: "TCP" });
  return await new Promise<never>(() => {});
}
