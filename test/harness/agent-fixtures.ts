// What the agent's unit tests share: a config with the fields they all set (a local datastore
// that is never opened, one small pool, no metrics listener, timers long enough that only the
// test drives them), the underlay and VTEP MAC of a node, and a datastore whose list() can be
// held back to catch writes made before the first sync.
import { type AgentConfig, parseAgentConfig } from "../../src/agent/agent-config.ts";
import type { Underlay } from "../../src/agent/kernel-port.ts";
import type { ListResult } from "../../src/datastore/datastore.ts";
import { MemoryDatastore } from "../../src/datastore/memory-datastore.ts";

/** An agent config for node `nodeName`; `over` replaces or adds fields (validated like a file). */
export function testAgentConfig(nodeName: string, over: Record<string, unknown> = {}): AgentConfig {
  return parseAgentConfig(
    JSON.stringify({
      nodeName,
      datastore: { type: "local", path: "/unused" },
      underlayInterface: "eth0",
      pools: [{ name: "p4", cidr: "10.244.0.0/24", blockSize: 26 }],
      network: "net",
      metricsAddress: "",
      resyncSeconds: 3600,
      heartbeatSeconds: 3600,
      ...over,
    }),
  );
}

export const TEST_UNDERLAY: Underlay = {
  interface: "eth0",
  address: "198.18.0.2",
  subnet: "198.18.0.0/15",
  mtu: 1500,
};

export const TEST_VTEP_MAC = "02:00:00:00:00:01";

/** A memory datastore whose list() waits for `gate` when set, and says when a list reached it. */
export class GatedDatastore extends MemoryDatastore {
  gate: Promise<void> | undefined;
  private reachedGate!: () => void;
  /** Resolves once a list() is held at the gate. */
  readonly reached = new Promise<void>((r) => {
    this.reachedGate = r;
  });
  override async list(kind: string, namespace?: string): Promise<ListResult> {
    if (this.gate) {
      this.reachedGate();
      await this.gate;
    }
    return super.list(kind, namespace);
  }
}
