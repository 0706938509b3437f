import { readFileSync } from "node:fs";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { labRoot } from "./labs-up.ts";

/**
 * The fields of a lab's state file (src/lab/lab-state.ts LabState) that the debugging commands
 * read: the backend for explain's path, the pods' namespaces for `explain --probe`, the nodes'
 * agent sockets for `ipam`. The CLI layer sits below the lab and cannot import its types.
 */
export interface LabFileFields {
  name: string;
  dir: string;
  backend: RoutingBackendName;
  /** The lab's own executable (probes run it inside pod namespaces). */
  tartan: string;
  network: string;
  nodes: { name: string; netns: string; dir: string; agentConfigFile?: string }[];
  pods: { namespace: string; name: string; node: string; netns: string; ips: string[]; port: number }[];
}

export function readLabFile(name: string, root = labRoot()): LabFileFields | undefined {
  try {
    return JSON.parse(readFileSync(`${root}/${name}/lab.json`, "utf8")) as LabFileFields;
  } catch {
    return undefined;
  }
}
