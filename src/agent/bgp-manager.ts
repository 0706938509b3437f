import { type BgpModel, calcBgpModel } from "../calc/bgp-model.ts";
import type { BirdDaemon } from "../dataplane/bird-daemon.ts";
import { TartanError } from "../errors/tartan-error.ts";
import type { BgpNodeStatus } from "../model/agent-api.ts";
import { BGP_KINDS, type BGPConfigurationResource, type BGPPeerResource } from "../model/bgp-resources.ts";
import { KINDS } from "../model/cluster-resources.ts";
import { renderBirdConf } from "../render/bird-conf.ts";
import { errorFields } from "./agent-log.ts";
import { bgpNodeStatus } from "./bgp-status.ts";
import { KindMirror } from "./kind-mirror.ts";
import type { Manager, ManagerContext, ManagerFactory } from "./manager.ts";

const READS = new Set<string>([KINDS.node, KINDS.ipamBlock, BGP_KINDS.bgpConfiguration, BGP_KINDS.bgpPeer]);

/** How often the manager checks that bird still answers on its socket (and restarts it if not). */
export const BIRD_WATCH_MS = 1000;
/**
 * bird's log file is renamed to bird.log.1 past this size: a node keeps at most twice this much of
 * it in its state directory (a tmpfs under /run by default), however long bird runs.
 */
export const BIRD_LOG_LIMIT_BYTES = 8 * 1024 * 1024;
/** Unanswered probes of a live bird before the watchdog replaces it (its probe waits 2 s each). */
const HUNG_CHECKS = 5;

/**
 * The `bgp` backends' manager (decision 0017): Nodes, IPAMBlocks, BGPConfiguration and BGPPeers
 * → calc/bgp-model → render/bird-conf → this node's BIRD. The text is checked with `bird -p` and
 * renamed into place; a running bird is reconfigured through its control socket (`configure`:
 * sessions stay up unless their own options changed); none running → started with `-R`. A bird
 * found running at start-up (the agent restarted) is adopted, not restarted. A watchdog restarts
 * a bird that died; stop() leaves bird running, so a planned agent restart keeps every session
 * and route (and peers' graceful-restart state is never needed).
 */
export class BgpManager implements Manager {
  readonly name = "bgp";
  readonly mirrors: readonly KindMirror[];
  private readonly configs: KindMirror<BGPConfigurationResource>;
  private readonly peers: KindMirror<BGPPeerResource>;
  private dirty = true;
  private lastText: string | undefined;
  private model: BgpModel | undefined;
  private lastProblems = "";
  private watch: unknown;
  private chain: Promise<unknown> = Promise.resolve();
  private stopped = false;
  private checking = false;
  /** Consecutive watchdog probes a live bird did not answer. */
  private silent = 0;
  /** Times the watchdog found bird gone and started it again. */
  restarts = 0;

  constructor(
    private readonly bird: BirdDaemon,
    private readonly ctx: ManagerContext,
    private readonly watchMs = BIRD_WATCH_MS,
  ) {
    const opts = (what: string) => ({
      ...ctx.mirrorOptions(what),
      // The agent triggers applies for its own kinds only: a BGP object's change applies here,
      // once the first apply (after the agent's first full sync) has run.
      onChange: () => {
        this.dirty = true;
        if (this.watch !== undefined && !this.stopped)
          this.apply().catch((e) =>
            ctx.log("error", "BGP apply failed; the next trigger retries", errorFields(e)),
          );
      },
    });
    this.configs = new KindMirror(ctx.ds, BGP_KINDS.bgpConfiguration, opts("BGP configurations"));
    this.peers = new KindMirror(ctx.ds, BGP_KINDS.bgpPeer, opts("BGP peers"));
    this.mirrors = [this.configs, this.peers];
  }

  get inSync(): boolean {
    return this.ctx.nodes.synced && this.ctx.blocks.synced && this.configs.synced && this.peers.synced;
  }

  onUpdate(event: { kind: string }): void {
    if (READS.has(event.kind)) this.dirty = true;
  }

  resync(): void {
    this.dirty = true;
  }

  /** The model from the agent's mirrors (pure calc). */
  currentModel(): BgpModel {
    const c = this.ctx.config;
    return calcBgpModel({
      localNode: c.nodeName,
      nodes: [...this.ctx.nodes.items.values()],
      blocks: [...this.ctx.blocks.items.values()],
      pools: c.pools,
      configs: [...this.configs.items.values()],
      peers: [...this.peers.items.values()],
      crossSubnet: c.backend === "bgp-cross-subnet",
    });
  }

  apply(): Promise<{ changes?: number } | undefined> {
    return this.serial(() => this.applyNow());
  }

  private async applyNow(): Promise<{ changes?: number } | undefined> {
    if (this.watch === undefined && !this.stopped) {
      // One probe at a time: a hung bird makes each probe wait for its timeout, and ticks must
      // not queue up behind it.
      this.watch = this.ctx.timers.setInterval(() => {
        if (this.checking) return;
        this.checking = true;
        void this.serial(() => this.check()).finally(() => {
          this.checking = false;
        });
      }, this.watchMs);
    }
    if (!this.dirty) return undefined;
    this.dirty = false;
    try {
      const model = this.currentModel();
      const { log, logBackup } = this.bird.paths;
      const text = renderBirdConf(model, { file: log, backup: logBackup, limitBytes: BIRD_LOG_LIMIT_BYTES });
      const problems = model.problems.map((p) => p.message).join("; ");
      if (problems !== this.lastProblems) {
        this.lastProblems = problems;
        if (problems) this.ctx.log("warn", "BGP peers not configured", { problems: model.problems });
      }
      const changed = text !== this.lastText;
      if (changed) await this.bird.writeConfig(text);
      this.model = model;
      const { pid, started } = await this.ensureBird();
      if (started) {
        this.ctx.log("info", "bird started", { birdPid: pid, config: this.bird.paths.conf });
      } else if (changed) {
        await this.configure();
        this.ctx.log(
          "info",
          this.lastText === undefined ? "bird adopted and reconfigured" : "bird reconfigured",
          {
            birdPid: pid,
            sessions: model.sessions.length,
            blocks: model.blocks4.length + model.blocks6.length,
          },
        );
      }
      this.lastText = text;
      return { changes: changed ? 1 : 0 };
    } catch (e) {
      this.dirty = true;
      throw e;
    }
  }

  /** `configure`: 0003 Reconfigured / 0004 in progress / 0018 ignored are success; 8xxx/9xxx not. */
  private async configure(): Promise<void> {
    const reply = await this.bird.command("configure");
    const last = reply[reply.length - 1];
    if (!last || last.code >= 8000) {
      throw new TartanError(
        "bgp-bird-failed",
        `bird refused to reconfigure: ${reply.map((l) => l.text).join(" ")}`,
        `read ${this.bird.paths.log}; bird keeps its previous config`,
      );
    }
  }

  /**
   * bird's pid when it answers its socket; else bird started (with the config in place, `-R`).
   * A bird of ours that lives but does not answer (stopped, wedged) is not doubled: a second bird
   * would fight it for the BGP port. It gets HUNG_CHECKS probes (from applies and the watchdog;
   * each one fails with bgp-bird-failed) and is then SIGKILLed by pid and replaced.
   */
  private async ensureBird(): Promise<{ pid: number; started: boolean }> {
    const pid = await this.bird.running();
    if (pid !== undefined) {
      this.silent = 0;
      return { pid, started: false };
    }
    const hung = this.bird.process();
    if (hung !== undefined) {
      if (++this.silent < HUNG_CHECKS) {
        throw new TartanError(
          "bgp-bird-failed",
          `bird (pid ${hung}) lives but does not answer on ${this.bird.paths.ctl} (${this.silent} of ${HUNG_CHECKS} probes before it is replaced)`,
          `read ${this.bird.paths.log}`,
        );
      }
      this.ctx.log("warn", "bird lives but does not answer its control socket; killing it", {
        birdPid: hung,
        socket: this.bird.paths.ctl,
      });
      this.bird.kill(hung);
    }
    this.silent = 0;
    return { pid: await this.bird.start(), started: true };
  }

  /** The watchdog: bird gone (SIGKILL, crash) or wedged → started again (ensureBird). */
  private async check(): Promise<void> {
    if (this.stopped || this.lastText === undefined) return;
    try {
      const { pid, started } = await this.ensureBird();
      if (!started) return;
      this.restarts++;
      this.ctx.log("warn", "bird was not running; started it again (graceful restart)", {
        birdPid: pid,
        restarts: this.restarts,
      });
    } catch (e) {
      this.ctx.log("error", "bird check failed; retrying", errorFields(e));
    }
  }

  /** GET /v1/bgp: sessions, installed routes and a verdict, from bird's control socket. */
  async status(): Promise<BgpNodeStatus> {
    const model = this.model ?? this.currentModel();
    const pid = await this.bird.running();
    if (pid === undefined) return bgpNodeStatus(model, [], [], undefined, false);
    const [protocols, r4, r6, st] = await Promise.all([
      this.bird.command("show protocols all"),
      this.bird.command("show route export kernel4"),
      this.bird.command("show route export kernel6"),
      this.bird.command("show status"),
    ]);
    const recovering = st.some((l) => /graceful restart recovery in progress/i.test(l.text));
    return bgpNodeStatus(model, protocols, [...r4, ...r6], pid, recovering);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => {});
    return next;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watch !== undefined) this.ctx.timers.clearInterval(this.watch);
    this.configs.stop();
    this.peers.stop();
    await this.chain;
  }
}

/** The wiring's line for the bgp backends: a manager over this node's BIRD. */
export const bgpManager =
  (bird: BirdDaemon, watchMs?: number): ManagerFactory =>
  (ctx) =>
    new BgpManager(bird, ctx, watchMs);
