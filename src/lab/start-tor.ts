import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import type { LabProcess } from "./lab-state.ts";
import { processStartTime } from "./process-start-time.ts";
import { startInNetns } from "./start-in-netns.ts";
import type { TorPlan } from "./tor-plan.ts";
import { waitUntil } from "./wait-until.ts";

export const FRR_DAEMONS_DIR = "/usr/lib/frr";

/**
 * Every FRR daemon makes a crash-log dir /var/tmp/frr/<daemon>.<pid> (compiled in, no option)
 * and fails to remove it on exit once it has dropped its privileges: `lab down` removes the ones
 * of the daemons it started, by their PIDs.
 */
export const frrCrashDir = (daemon: string, pid: number): string => `/var/tmp/frr/${daemon}.${pid}`;

function logTail(file: string): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-5).join("\n");
  } catch {
    return "";
  }
}

/**
 * The argv of one FRR daemon of the lab's ToR: everything it reads or writes under the ToR's
 * own dir (config `-f`, pid `-i`, zserv socket `-z`, vty sockets `--vty_socket`), no TCP vty
 * (`-P 0`), log to stdout (the lab's log file), foreground (no `-d`: the PID we record is the
 * daemon's). `-u root -g frrvty`: the lab's dirs are root's 0700, which FRR's default user `frr`
 * cannot traverse; FRR insists the user belong to its vty group, and `-g frrvty` makes it so.
 * The system's /etc/frr and /run/frr are never read or written.
 */
export function frrDaemonArgv(daemon: "zebra" | "bgpd", dir: string): string[] {
  return [
    `${FRR_DAEMONS_DIR}/${daemon}`,
    "-f",
    `${dir}/${daemon}.conf`,
    "-i",
    `${dir}/${daemon}.pid`,
    "-z",
    `${dir}/zserv.api`,
    "--vty_socket",
    dir,
    "-P",
    "0",
    "-u",
    "root",
    "-g",
    "frrvty",
    "--log",
    "stdout",
  ];
}

async function startDaemon(
  netns: string,
  daemon: "zebra" | "bgpd",
  dir: string,
  onStarted: (p: LabProcess) => Promise<void>,
): Promise<LabProcess> {
  const log = `${dir}/${daemon}.log`;
  const proc = await startInNetns(netns, frrDaemonArgv(daemon, dir), log);
  await onStarted(proc);
  const outcome = await waitUntil(
    `${daemon} of the ToR ready`,
    15_000,
    async () => {
      if (processStartTime(proc.pid) !== proc.startTime) return "exited";
      return existsSync(`${dir}/${daemon}.vty`) ? "ready" : undefined;
    },
    `see ${log}`,
    50,
  );
  if (outcome === "exited") {
    throw new TartanError("lab-tor-exited", `the ToR's ${daemon} exited:\n${logTail(log)}`, `see ${log}`);
  }
  return proc;
}

/**
 * Writes the ToR's config into its dir and starts zebra, then bgpd (which connects to zebra's
 * zserv socket to install the routes it learns) inside the fabric namespace; each PID is
 * recorded through `onStarted` before waiting, so a failure can still stop it.
 */
export async function startTor(
  netns: string,
  plan: TorPlan,
  onStarted: (daemon: "zebra" | "bgpd", p: LabProcess) => Promise<void>,
): Promise<{ zebra: LabProcess; bgpd: LabProcess }> {
  for (const d of ["zebra", "bgpd"]) {
    if (!existsSync(`${FRR_DAEMONS_DIR}/${d}`)) {
      throw new TartanError(
        "lab-no-frr",
        `${FRR_DAEMONS_DIR}/${d} does not exist: --tor needs FRR`,
        "install it: apt-get install frr (the system's frr service may stay disabled), or run scripts/ensure-deps.sh",
      );
    }
  }
  mkdirSync(plan.dir, { recursive: true, mode: 0o700 });
  writeFileSync(`${plan.dir}/zebra.conf`, plan.zebraConfig, { mode: 0o600 });
  writeFileSync(`${plan.dir}/bgpd.conf`, plan.bgpdConfig, { mode: 0o600 });
  // vtysh --config_dir DIR reads DIR/vtysh.conf instead of the system's.
  writeFileSync(`${plan.dir}/vtysh.conf`, "! tartan lab ToR\n", { mode: 0o600 });
  const zebra = await startDaemon(netns, "zebra", plan.dir, (p) => onStarted("zebra", p));
  const bgpd = await startDaemon(netns, "bgpd", plan.dir, (p) => onStarted("bgpd", p));
  return { zebra, bgpd };
}
