import { CniCode, CniError } from "../errors/cni-error.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { InvalidValueError } from "../model/invalid-value.ts";

/** TartanError codes raised below the CNI layer, and the CNI code a runtime should see for each. */
const CODE_MAP: Record<string, number> = {
  "ipam-config-invalid": CniCode.invalidConfig,
  "ipam-ip-not-in-range": CniCode.invalidConfig,
  "ipam-ip-request-invalid": CniCode.invalidConfig,
  "ipam-already-allocated": CniCode.invalidConfig,
  "ipam-ip-in-use": CniCode.tryAgainLater,
  "ipam-store-busy": CniCode.tryAgainLater,
  "ipam-exhausted": CniCode.rangeExhausted,
  "ipam-store-unwritable": CniCode.ioFailure,
  "ipam-store-corrupt": CniCode.ioFailure,
  "ipam-store-too-new": CniCode.ioFailure,
  "ipam-store-io": CniCode.ioFailure,
  "netns-missing": CniCode.unknownContainer,
  "exec-failed": CniCode.kernel,
  "nft-apply-failed": CniCode.kernel,
  "sysctl-failed": CniCode.kernel,
};

/** Any thrown value as the CniError the runtime gets: specific codes kept, the rest mapped. */
export function toCniError(e: unknown): CniError {
  if (e instanceof CniError) return e;
  if (e instanceof InvalidValueError) return new CniError(CniCode.invalidConfig, e.message);
  if (e instanceof TartanError) {
    const code = CODE_MAP[e.code] ?? (e.code.startsWith("kernel") ? CniCode.kernel : CniCode.internal);
    return new CniError(code, e.message, "", e.hint, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new CniError(CniCode.internal, `internal error: ${msg}`, e instanceof Error ? (e.stack ?? "") : "");
}
