import type { KernelOp } from "../dataplane/kernel-op.ts";
import { CniCode, CniError } from "../errors/cni-error.ts";
import type { CniRequest } from "./cni-request.ts";
import { ipamFor, stateDirOf } from "./cni-request.ts";
import { removeMasquerade } from "./masquerade.ts";
import { toCniError } from "./to-cni-error.ts";

/**
 * CNI GC: removes every attachment of this network that the runtime no longer knows — host veth,
 * reservation, record — and the ipMasq chain when nothing is left. Other networks are not touched.
 * It goes on after an error and reports them together at the end.
 */
export async function cmdGc(req: CniRequest): Promise<void> {
  const { deps, conf } = req;
  const valid = conf.validAttachments;
  if (!valid) {
    throw new CniError(
      CniCode.invalidConfig,
      "GC needs cni.dev/valid-attachments (the attachments to keep)",
      "",
      "without the list GC would remove every pod of the network; the runtime always sends it",
    );
  }
  const keep = new Set(valid.map((v) => `${v.containerID}\0${v.ifname}`));
  const errors: unknown[] = [];
  const stateDir = stateDirOf(conf);
  const store = deps.openStore(stateDir);
  try {
    const stale = store
      .transaction((tx) => tx.attachments(conf.name))
      .filter((a) => !keep.has(`${a.containerId}\0${a.ifname}`));
    const dels: KernelOp[] = stale
      .filter((a) => a.hostIfname && deps.host.linkExists(a.hostIfname))
      .map((a) => ({ op: "link-del", name: a.hostIfname }));
    for (const op of dels) {
      await deps.dataplane.apply(null, [op]).catch((e: Error) => {
        if (op.op === "link-del" && deps.host.linkExists(op.name)) errors.push(e);
      });
    }
    try {
      await ipamFor(req, store).gc(valid);
    } catch (e) {
      errors.push(e);
    }
    const left = store.transaction((tx) => {
      for (const a of stale) tx.deleteAttachment(a.network, a.containerId, a.ifname);
      return tx.attachments(conf.name).length;
    });
    if (conf.ipMasq && left === 0) {
      await removeMasquerade(deps, stateDir, conf.name, true).catch((e: unknown) => errors.push(e));
    }
    deps.log("info", "GC done", { network: conf.name, removed: stale.length });
  } finally {
    store.close();
  }
  if (errors.length) {
    // A delegate's (or the kernel's) error keeps its code: the runtime sees what failed, not 999.
    const first = toCniError(errors[0]);
    if (errors.length === 1) throw first;
    const msgs = errors.map((e) => (e instanceof Error ? e.message : String(e)));
    throw new CniError(first.cniCode, `GC finished with ${errors.length} error(s): ${msgs.join("; ")}`);
  }
}
