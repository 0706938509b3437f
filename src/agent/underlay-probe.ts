import { run } from "../exec/run.ts";

/**
 * Whether a node still answers on the underlay (decision 0014): the node reclaimer releases the
 * blocks of a node whose heartbeat stopped only when this says no, so a node that is cut off from
 * the datastore but still up (its pods running) keeps its blocks and its routes.
 */
export type UnderlayProbe = (address: string) => Promise<ProbeOutcome>;

/** Only "silent" lets a reclaim go ahead: a probe that could not run proves nothing. */
export type ProbeOutcome = "answers" | "silent" | "probe-failed";

/**
 * ICMP echo to the node's underlay address, 3 tries over about 3 s: a host that is up answers
 * even when its agent is dead (whose pods still run, so its blocks must stay). A failure to run
 * ping (not installed, no permission) is "probe-failed", which spares the node like an answer.
 */
export const pingProbe: UnderlayProbe = async (address) => {
  try {
    const r = await run(["ping", "-n", "-q", "-c", "3", "-i", "0.5", "-W", "1", address], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    // ping: 0 = answered, 1 = no answer, 2 = other error (do no harm: spare the node).
    return r.code === 0 ? "answers" : r.code === 1 ? "silent" : "probe-failed";
  } catch {
    return "probe-failed";
  }
};

/** Trusts the datastore alone (Calico/Kubernetes style): every node whose heartbeat stopped is dead. */
export const noProbe: UnderlayProbe = async () => "silent";
