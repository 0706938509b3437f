import { CniCode, CniError } from "../errors/cni-error.ts";
import type { CniRequest } from "./cni-request.ts";
import { ipamFor, stateDirOf } from "./cni-request.ts";

/**
 * CNI STATUS: succeeds iff an ADD could succeed now — the state store opens and IPAM (in-process
 * or delegated) has an address to give. Failures are code 50.
 */
export async function cmdStatus(req: CniRequest): Promise<void> {
  const { deps, conf } = req;
  let store: ReturnType<typeof deps.openStore>;
  try {
    store = deps.openStore(stateDirOf(conf));
  } catch (e) {
    throw new CniError(
      CniCode.notAvailable,
      `tartan cannot open its state: ${e instanceof Error ? e.message : e}`,
    );
  }
  try {
    await ipamFor(req, store).status();
  } catch (e) {
    if (
      e instanceof CniError &&
      (e.cniCode === CniCode.notAvailable || e.cniCode === CniCode.notAvailableLimitedConnectivity)
    )
      throw e;
    throw new CniError(CniCode.notAvailable, `IPAM is not available: ${e instanceof Error ? e.message : e}`);
  } finally {
    store.close();
  }
}
