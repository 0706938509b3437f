/**
 * The agent's counters and gauges, rendered in the Prometheus text format (0.0.4) by hand: a
 * dozen series do not need a client library, and the agent stays one small bundle.
 */
export class AgentMetrics {
  synced = false;
  applies = 0;
  applyErrors = 0;
  applySecondsSum = 0;
  lastApplySeconds = 0;
  resyncs = 0;
  /** Kernel objects added, changed or removed by applies: 0 across a restart means a pure diff. */
  kernelChanges = 0;
  nodes = 0;
  clusterBlocks = 0;
  nodeBlocks = 0;
  blockClaims = 0;
  blockReleases = 0;
  heartbeats = 0;
  readonly datastoreErrors = new Map<string, number>();
  /** The objects the agent's mirrors refused on ingestion (set by the agent). */
  rejectedObjects: () => readonly { kind: string }[] = () => [];
  /** Node reclaimer (decision 0014): whether this agent holds the lease, and what it did. */
  reclaimerLeader = false;
  nodesNotReady = 0;
  nodeNotReadyMarks = 0;
  nodeReadyMarks = 0;
  nodeReclaims = 0;
  nodeReclaimedBlocks = 0;
  /** Reclaims not done because the node still answered on the underlay. */
  nodeReclaimsSpared = 0;
  /**
   * Where the memory figures come from (a test gives fixed ones): read at most once a second,
   * since process.memoryUsage() walks the heap's statistics (~0.1 ms) and a scraper may poll fast.
   */
  memory: () => { rss: number; heapUsed: number; heapTotal: number } = (() => {
    let last: { at: number; v: NodeJS.MemoryUsage } | undefined;
    return () => {
      const t = Date.now();
      if (!last || t - last.at >= 1000) last = { at: t, v: process.memoryUsage() };
      return last.v;
    };
  })();

  datastoreError(op: string): void {
    this.datastoreErrors.set(op, (this.datastoreErrors.get(op) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
    };
    metric("tartan_agent_synced", "gauge", "1 once the first full datastore sync is done.", [
      ["", this.synced ? 1 : 0],
    ]);
    metric("tartan_agent_applies_total", "counter", "Kernel applies run (coalesced triggers).", [
      ["", this.applies],
    ]);
    metric("tartan_agent_apply_errors_total", "counter", "Kernel applies that failed.", [
      ["", this.applyErrors],
    ]);
    // A summary's samples are name_sum and name_count: the "labels" slot carries the suffix.
    metric("tartan_agent_apply_duration_seconds", "summary", "Time spent in kernel applies.", [
      ["_sum", this.applySecondsSum],
      ["_count", this.applies],
    ]);
    metric("tartan_agent_last_apply_duration_seconds", "gauge", "Duration of the last kernel apply.", [
      ["", this.lastApplySeconds],
    ]);
    metric("tartan_agent_kernel_changes_total", "counter", "Kernel objects written by applies.", [
      ["", this.kernelChanges],
    ]);
    metric("tartan_agent_resyncs_total", "counter", "Periodic resyncs (drift repair).", [["", this.resyncs]]);
    metric("tartan_agent_nodes", "gauge", "Nodes known from the datastore.", [["", this.nodes]]);
    metric("tartan_agent_blocks", "gauge", "IPAM blocks: all in the cluster, and this node's.", [
      ['{scope="cluster"}', this.clusterBlocks],
      ['{scope="node"}', this.nodeBlocks],
    ]);
    metric("tartan_agent_block_claims_total", "counter", "Blocks this node claimed.", [
      ["", this.blockClaims],
    ]);
    metric("tartan_agent_block_releases_total", "counter", "Empty blocks this node released.", [
      ["", this.blockReleases],
    ]);
    metric("tartan_agent_heartbeats_total", "counter", "Heartbeats written to the Node status.", [
      ["", this.heartbeats],
    ]);
    metric(
      "tartan_agent_datastore_errors_total",
      "counter",
      "Datastore operations that failed, by operation.",
      [...this.datastoreErrors].sort().map(([op, n]) => [`{op="${op}"}`, n]),
    );
    const rejected = new Map<string, number>();
    for (const r of this.rejectedObjects()) rejected.set(r.kind, (rejected.get(r.kind) ?? 0) + 1);
    metric(
      "tartan_agent_rejected_objects",
      "gauge",
      "Datastore objects refused on ingestion (invalid; treated as absent), by kind.",
      [...rejected].sort().map(([kind, n]) => [`{kind="${kind}"}`, n]),
    );
    metric("tartan_agent_reclaimer_leader", "gauge", "1 while this agent holds the node reclaimer lease.", [
      ["", this.reclaimerLeader ? 1 : 0],
    ]);
    metric("tartan_agent_nodes_not_ready", "gauge", "Nodes the reclaimer marks not ready (leader only).", [
      ["", this.nodesNotReady],
    ]);
    metric("tartan_agent_node_marks_total", "counter", "Node Ready conditions the reclaimer wrote.", [
      ['{status="not-ready"}', this.nodeNotReadyMarks],
      ['{status="ready"}', this.nodeReadyMarks],
    ]);
    metric("tartan_agent_node_reclaims_total", "counter", "Dead nodes whose Node and blocks were removed.", [
      ["", this.nodeReclaims],
    ]);
    metric("tartan_agent_node_reclaimed_blocks_total", "counter", "Blocks released by node reclaims.", [
      ["", this.nodeReclaimedBlocks],
    ]);
    metric(
      "tartan_agent_node_reclaims_spared_total",
      "counter",
      "Reclaims not done: the silent node still answered on the underlay.",
      [["", this.nodeReclaimsSpared]],
    );
    // The process's memory, as Go agents export it (process_resident_memory_bytes), and the JS
    // heap beside it: what the rest of the resident set is (runtime code, allocator caches) is
    // then visible as the difference.
    const mem = this.memory();
    metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", [["", mem.rss]]);
    metric("tartan_agent_js_heap_bytes", "gauge", "JavaScript heap: in use, and held by the runtime.", [
      ['{state="used"}', mem.heapUsed],
      ['{state="total"}', mem.heapTotal],
    ]);
    return `${out.join("\n")}\n`;
  }
}
