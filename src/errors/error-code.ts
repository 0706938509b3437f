import { AGENT_ERROR_CODES } from "./codes/agent.ts";
import { CALC_ERROR_CODES } from "./codes/calc.ts";
import { CLI_ERROR_CODES } from "./codes/cli.ts";
import { CNI_ERROR_CODES } from "./codes/cni.ts";
import { DATAPLANE_ERROR_CODES } from "./codes/dataplane.ts";
import { DATASTORE_ERROR_CODES } from "./codes/datastore.ts";
import { EXEC_ERROR_CODES } from "./codes/exec.ts";
import { IPAM_ERROR_CODES } from "./codes/ipam.ts";
import { LAB_ERROR_CODES } from "./codes/lab.ts";

/**
 * Every code a TartanError can carry, declared per area in codes/. A code is part of tartan's
 * interface (scripts match on it, the CNI mapping and the CLI's exit status are keyed by it), so a
 * new one is added to its area's list, which makes the compiler ask for its CNI mapping.
 */
export const ERROR_CODES = [
  ...EXEC_ERROR_CODES,
  ...DATASTORE_ERROR_CODES,
  ...DATAPLANE_ERROR_CODES,
  ...IPAM_ERROR_CODES,
  ...CALC_ERROR_CODES,
  ...CNI_ERROR_CODES,
  ...AGENT_ERROR_CODES,
  ...CLI_ERROR_CODES,
  ...LAB_ERROR_CODES,
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

/** Whether a string from outside (the agent's socket answers) is a code this build knows. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && KNOWN.has(code);
}
