import { TartanError } from "./tartan-error.ts";

/** The CNI spec's error codes (section "Error"); >= 100 are plugin specific. */
export const CniCode = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  ioFailure: 5,
  decodeFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  notAvailableLimitedConnectivity: 51,
  /** tartan: the kernel refused an operation (ip/nft failed). */
  kernel: 100,
  /** tartan: no free address in the requested range(s). */
  rangeExhausted: 101,
  /** tartan: the requested interface already exists in the container. */
  interfaceExists: 102,
  /** tartan: the delegated plugin failed. */
  delegate: 103,
  /** tartan: CHECK found something missing or wrong. */
  checkFailed: 104,
  internal: 999,
} as const;

/** An error the CNI plugin reports on stdout as `{cniVersion, code, msg, details}`. */
export class CniError extends TartanError {
  constructor(
    readonly cniCode: number,
    msg: string,
    readonly details = "",
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super("cni-error", msg, hint, options);
    this.name = "CniError";
  }
}
