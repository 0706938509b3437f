import type { Dataplane } from "../dataplane/dataplane.ts";
import type { HostFacts } from "../dataplane/host-facts.ts";
import type { NftTable } from "../dataplane/nft-table.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import type { JoinPod } from "./join-pod.ts";
import type { RequestBlock } from "./request-block.ts";

/** What a delegated plugin printed and how it exited. */
export interface PluginOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Everything the CNI verbs touch outside pure logic. main.ts wires the Linux drivers; unit tests
 * wire the fake kernel, an in-memory store and a recording plugin runner.
 */
export interface CniDeps {
  dataplane: Dataplane;
  nft: NftTable;
  host: HostFacts;
  /** Opens (creating when missing) the local state store of a data directory. */
  openStore(dataDir: string): IpamStore;
  /** Runs a delegated plugin binary with this environment and stdin. */
  execPlugin(binary: string, env: Record<string, string>, stdin: string): Promise<PluginOutput>;
  /** Locates a plugin binary by type in CNI_PATH; undefined when absent. */
  findPlugin(type: string, path: string[]): string | undefined;
  /** Reads/writes small marker files (ipMasq set-up state). */
  readMarker(path: string): string | undefined;
  writeMarker(path: string, content: string): void;
  removeMarker(path: string): void;
  /** Structured log line to stderr / the log file; never stdout. */
  log(level: "debug" | "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>): void;
  /** Random bytes for MAC addresses. */
  randomBytes(n: number): Uint8Array;
  /** Asks the node agent for a block (nodeBlocks IPAM); default: AgentClient (src/api/) over its socket. */
  requestBlock?: RequestBlock;
  /** Tells the node agent a pod joined or left (agent mode); default: AgentClient over its socket. */
  joinPod?: JoinPod;
  /** The process's environment (delegates get it unchanged). */
  env: Record<string, string | undefined>;
}
