import { run } from "../exec/run.ts";

/**
 * Whether a node still answers on the underlay (decision 0014): the node reclaimer releases the
 * blocks of a node whose heartbeat stopped only when this says no, so a node that is cut off from
 * the datastore but still up (its pods running) keeps its blocks and its routes.
 */
export type UnderlayProbe = (address: string) => Promise<boolean>;

/**
 * ICMP echo to the node's underlay address, 3 tries over about 3 s: a host that is up answers
 * even when its agent is dead (whose pods still run, so its blocks must stay). Any answer is
 * "alive"; a failure to run ping counts as alive too (never reclaim on a broken probe).
 */
export const pingProbe: UnderlayProbe = async (address) => {
  try {
    const r = await run(["ping", "-n", "-q", "-c", "3", "-i", "0.5", "-W", "1", address], {
      allowFailure: true,
      timeoutMs: 10_000,
    });
    // ping: 0 = answered, 1 = no answer, 2 = other error (treated as alive: do no harm).
    return r.code !== 1;
  } catch {
    return true;
  }
};

/** Trusts the datastore alone (Calico/Kubernetes style): every node whose heartbeat stopped is dead. */
export const noProbe: UnderlayProbe = async () => false;
