import type { Dataplane } from "../dataplane/dataplane.ts";
import type { Datastore } from "../datastore/datastore.ts";
import type { IpamStore } from "../datastore/ipam-store.ts";
import type { DatastoreConfig } from "../datastore/open-datastore.ts";
import { stopSignal } from "../exec/stop-signal.ts";
import { stableMac } from "../model/mac-address.ts";
import { isBgpBackend } from "../model/routing-backend.ts";
import { Agent } from "./agent.ts";
import { agentApi, metricsApi } from "./agent-api.ts";
import type { AgentConfig } from "./agent-config.ts";
import { type AgentLog, errorFields } from "./agent-log.ts";
import { CniConfigFile, cniConfList } from "./cni-config-file.ts";
import { LogRing } from "./log-ring.ts";
import type { ManagerFactory } from "./manager.ts";
import { nodeBgpSpec } from "./node-bgp-spec.ts";
import { PodCidrBlocks } from "./pod-cidr-blocks.ts";
import { readUnderlay } from "./read-underlay.ts";
import { type Listener, serveTcp, serveUnixSocket } from "./serve-agent.ts";

/** The real adapters, supplied by main.ts (the composition root); tests supply their own. */
export interface AgentWiring {
  openDatastore(c: DatastoreConfig): Promise<Datastore>;
  openIpamStore(dir: string): IpamStore;
  dataplane(): Dataplane;
  /**
   * The managers that program the kernel over the agent's dataplane, in order (decision 0010):
   * routing (calc + reconciler, the configured backend), NetworkPolicy when the config asks for it.
   */
  managers(config: AgentConfig, dp: Dataplane, log: AgentLog): Promise<ManagerFactory[]>;
  log: AgentLog;
}

/** A running agent process: the agent, its listeners, and how to stop it all. */
export interface RunningAgent {
  agent: Agent;
  /** Stops listeners, watches and timers, closes the stores; the kernel is left as it is. */
  stop(): Promise<void>;
}

/** The MAC of this node's VXLAN device: derived from the node name, so it survives restarts. */
export const vtepMacOf = (nodeName: string): string => stableMac(`tartan.vxlan/${nodeName}`);

/**
 * Starts an agent from its config: reads the underlay, opens the datastore and the local IPAM
 * store, serves the socket API and metrics, then runs the agent's start-up (which retries a
 * missing datastore by itself). Resolves once the listeners are up; the first sync goes on in
 * the background (GET /healthz turns 200 when it is done).
 */
export async function startAgent(config: AgentConfig, w: AgentWiring): Promise<RunningAgent> {
  // The last lines stay in memory for `tartan diagnose` (GET /v1/log), wherever the log goes.
  const ring = new LogRing();
  const log = ring.wrap(w.log);
  const dp = w.dataplane();
  const underlay = await readUnderlay(dp, config.underlayInterface);
  const vtepMac = vtepMacOf(config.nodeName);
  const nodeBgp = isBgpBackend(config.backend)
    ? await nodeBgpSpec(config, dp, underlay.interface)
    : undefined;
  const opened = await w.openDatastore(config.datastore);
  // node-podcidr: IPAMBlocks are read from the Nodes' spec.podCIDRs, never claimed (decision 0015).
  const ds = config.ipam?.mode === "node-podcidr" ? new PodCidrBlocks(opened) : opened;
  const store = w.openIpamStore(config.ipamDataDir);
  const listeners: Listener[] = [];
  let agent: Agent | undefined;
  const cni = config.cniConfig;
  const cniFile = cni && new CniConfigFile(cni.file, cniConfList(config, cni, underlay));
  let cniTimer: ReturnType<typeof setInterval> | undefined;
  let stopping = false;
  const close = async () => {
    stopping = true;
    clearInterval(cniTimer);
    // First: the runtime stops starting pods on this node before the agent goes away.
    if (cniFile && cni.removeOnStop) {
      try {
        cniFile.remove();
        log("info", "CNI config removed", { file: cni.file });
      } catch (e) {
        log("warn", "CNI config could not be removed", { file: cni.file, ...errorFields(e) });
      }
    }
    for (const l of listeners.splice(0)) await l.stop().catch(() => {});
    await agent?.stop();
    store.close();
    await ds.close().catch(() => {});
  };
  try {
    const managers = await w.managers(config, dp, log);
    agent = new Agent({
      config,
      ds,
      store,
      underlay,
      vtepMac,
      ...(nodeBgp ? { nodeBgp } : {}),
      log,
      managers,
    });
    listeners.push(await serveUnixSocket(config.socket, agentApi(agent, ring)));
    if (config.metricsAddress) listeners.push(serveTcp(config.metricsAddress, metricsApi(agent)));
    const a = agent;
    const keepCniFile = () => {
      if (!cniFile || stopping || !a.synced) return;
      try {
        if (cniFile.ensure()) log("info", "CNI config written", { file: cni.file });
      } catch (e) {
        log("error", "CNI config could not be written; retrying at the next resync", {
          file: cni.file,
          ...errorFields(e),
        });
      }
    };
    a.start().then(
      () => {
        keepCniFile();
        if (cniFile && !stopping)
          cniTimer = setInterval(keepCniFile, Math.max(1, config.resyncSeconds) * 1000);
      },
      (e) => log("error", "agent start-up failed", errorFields(e)),
    );
    return { agent: a, stop: close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * `tartan agent`: runs until SIGTERM or SIGINT, then stops cleanly (exit 0) without touching
 * kernel state, so the next start diffs against what is there instead of flushing it.
 */
export async function runAgent(config: AgentConfig, w: AgentWiring): Promise<number> {
  const running = await startAgent(config, w);
  w.log("info", "agent listening", { socket: config.socket, metrics: config.metricsAddress || "off" });
  const signal = await stopSignal();
  w.log("info", "agent stopping; kernel state is left in place", { signal });
  await running.stop();
  return 0;
}
