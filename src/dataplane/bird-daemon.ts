/**
 * One BIRD 2 daemon of this node, behind a small port (decision 0017): the agent's BGP manager
 * decides, the driver (linux/bird-process.ts) writes files, spawns `bird` and talks to its
 * control socket; a fake stands in for unit tests.
 */
export interface BirdDaemon {
  /** Where bird's files live: bird.conf, bird.ctl (control socket), bird.pid, bird.log (+ .1). */
  readonly paths: BirdPaths;
  /**
   * Checks the text with `bird -p` and puts it at paths.conf atomically (temp file + rename):
   * bird always re-reads the path it was started with. Throws `bgp-config-invalid` (the file
   * is left as it was).
   */
  writeConfig(text: string): Promise<void>;
  /** The pid of a bird that answers on paths.ctl, or undefined when none does. */
  running(): Promise<number | undefined>;
  /**
   * The pid of the bird in paths.pid when that process still lives (not a zombie) and is ours
   * (its command line names paths.ctl), answering or not; undefined otherwise.
   */
  process(): number | undefined;
  /** SIGKILLs our bird (as process() finds it): one that lives but no longer answers. */
  kill(pid: number): void;
  /**
   * Stops our bird (as process() finds it) with SIGTERM, as `birdc down` would: it closes its
   * sessions (peers withdraw its routes at once); SIGKILL if it is still there after `graceMs`.
   * Its `persist` routes stay in the kernel. Whether it is gone.
   */
  terminate(pid: number, graceMs?: number): Promise<boolean>;
  /**
   * Whether process `pid` runs in the caller's network namespace: a bird elsewhere (another lab
   * node's, the host's) is some other node's, whatever its files say.
   */
  sharesNetns(pid: number): boolean;
  /** Starts `bird -f -R -c conf -s ctl -P pid` and waits until its socket answers; its pid. */
  start(): Promise<number>;
  /** One control-socket command (`configure`, `show protocols all`…): its reply lines. */
  command(cmd: string): Promise<BirdReply>;
}

export interface BirdPaths {
  dir: string;
  conf: string;
  ctl: string;
  pid: string;
  log: string;
  /** Where bird moves its log when it passes its size limit (the previous one is replaced). */
  logBackup: string;
}

/** One reply line: its code (`1002`) and text, the code inherited by continuation lines. */
export interface BirdReplyLine {
  code: number;
  text: string;
}

export type BirdReply = BirdReplyLine[];

export const birdPaths = (dir: string): BirdPaths => ({
  dir,
  conf: `${dir}/bird.conf`,
  ctl: `${dir}/bird.ctl`,
  pid: `${dir}/bird.pid`,
  log: `${dir}/bird.log`,
  logBackup: `${dir}/bird.log.1`,
});
