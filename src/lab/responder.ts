import { createServer } from "node:net";

/** What a pod's responder answers: who it is, so a probe can tell the right pod answered. */
export function responderBanner(namespace: string, pod: string): string {
  return `tartan-lab ${namespace}/${pod}`;
}

/**
 * `tartan lab responder`: a TCP server in a pod namespace that writes its banner line to every
 * connection and closes it. Runs until killed.
 */
export async function runResponder(port: number, banner: string): Promise<never> {
  const server = createServer((sock) => {
    sock.on("error", () => {});
    sock.end(`${banner}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve());
  });
  return await new Promise<never>(() => {});
}
