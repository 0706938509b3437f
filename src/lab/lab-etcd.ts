import { TartanError } from "../errors/tartan-error.ts";
import { processStartTime } from "./process-start-time.ts";
import { requireLabState } from "./require-lab-state.ts";
import { startEtcd } from "./start-etcd.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { updateLabState } from "./update-lab-state.ts";

export interface LabEtcdResult {
  stopped?: number;
  started?: number;
  endpoint?: string;
}

/**
 * `tartan lab etcd stop|start`: an outage drill. Stop ends the lab's etcd by its recorded PID;
 * start runs it again the way `lab up` did (same data dir, same addresses), so the cluster's
 * objects and revisions survive and the agents' watches can resume.
 */
export async function labEtcd(lab: string, action: "stop" | "start"): Promise<LabEtcdResult> {
  const { paths, state } = requireLabState(lab);
  if (!state.etcd) throw new TartanError("lab-no-etcd", `lab "${lab}" has no etcd recorded`);
  if (action === "stop") {
    return (await stopLabProcess(state.etcd)) ? { stopped: state.etcd.pid } : {};
  }
  if (processStartTime(state.etcd.pid) === state.etcd.startTime) {
    throw new TartanError(
      "lab-etcd-running",
      `etcd of lab "${lab}" is already running (pid ${state.etcd.pid})`,
    );
  }
  const address = new URL(state.etcd.endpoint).hostname;
  // As `up` started it: with TLS (the same lab certificates) when lab.json says so.
  const etcd = await startEtcd(paths, address, state.tartan, state.etcd.tls !== undefined, async (p) => {
    await updateLabState(paths, (s) => ({ ...s!, etcd: p }));
  });
  return { started: etcd.pid, endpoint: etcd.endpoint };
}
