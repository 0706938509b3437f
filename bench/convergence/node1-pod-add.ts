// A pod on node-1 of a convergence lab, wired into the given namespace (made by the caller before
// its clock starts) by the real CNI ADD as a runtime would call it; returns its first address. CNI code 11
// (try again later: the agent could not reach its datastore in time) is retried twice, as a
// runtime retries; on a loaded machine a 50-node lab's etcd misses deadlines.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { callCni } from "../../src/lab/cni-call.ts";
import { labPaths } from "../../src/lab/lab-paths.ts";
import { TARTAN } from "../lab/lab-cli.ts";

/** node-1's network config as the lab wrote it for its runtime. */
export function node1Netconf(lab: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${labPaths(lab).nodeDir("node-1")}/cni.json`, "utf8")) as Record<
    string,
    unknown
  >;
}

export async function node1PodAdd(
  lab: string,
  netconf: Record<string, unknown>,
  podNetns: string,
  podName: string,
  onRetry: (attempt: number) => void = () => {},
): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await callCni({
        command: "ADD",
        tartan: TARTAN,
        nodeNetns: labPaths(lab).nodeNetns(1),
        podNetns,
        containerId: randomBytes(16).toString("hex"),
        ifname: "eth0",
        podNamespace: "bench",
        podName,
        netconf,
      });
      return ((result?.ips ?? []) as { address: string }[])[0]!.address.split("/")[0]!;
    } catch (err) {
      if (attempt >= 3 || !String(err).includes("[CNI code 11]")) throw err;
      onRetry(attempt);
    }
  }
}
