import { CniCode, CniError } from "../errors/cni-error.ts";
import { checkIfname } from "../model/ifname.ts";
import { InvalidValueError } from "../model/invalid-value.ts";

export const CNI_COMMANDS = ["ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION"] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

/** The CNI_* environment of one invocation, validated for its command. */
export interface CniEnv {
  command: CniCommand;
  containerId: string;
  /** Empty for DEL when the runtime no longer has the namespace. */
  netns: string;
  ifname: string;
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, IP, ...). */
  args: Map<string, string>;
  path: string[];
}

const CONTAINER_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function envError(names: string[], why: string): CniError {
  return new CniError(
    CniCode.invalidEnv,
    `${names.join(", ")} ${why}`,
    "",
    "the container runtime sets these variables; when invoking by hand, set them as the CNI spec describes",
  );
}

/**
 * Reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS and CNI_PATH, requiring
 * each where the spec's table requires it. Errors are code 4 and name every offending variable.
 */
export function parseCniEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND ?? "";
  if (!(CNI_COMMANDS as readonly string[]).includes(command)) {
    throw envError(["CNI_COMMAND"], `is "${command}"; expected one of ${CNI_COMMANDS.join(", ")}`);
  }
  const cmd = command as CniCommand;
  const perContainer = cmd === "ADD" || cmd === "DEL" || cmd === "CHECK";
  const missing: string[] = [];
  const containerId = env.CNI_CONTAINERID ?? "";
  const netns = env.CNI_NETNS ?? "";
  const ifname = env.CNI_IFNAME ?? "";
  if (perContainer) {
    if (!containerId) missing.push("CNI_CONTAINERID");
    if (!ifname) missing.push("CNI_IFNAME");
    if (!netns && cmd !== "DEL") missing.push("CNI_NETNS");
  }
  if (cmd === "GC" && !env.CNI_PATH) missing.push("CNI_PATH");
  if (missing.length) throw envError(missing, "must be set for " + cmd);
  if (perContainer) {
    if (!CONTAINER_ID_RE.test(containerId)) {
      throw envError(["CNI_CONTAINERID"], `"${containerId}" must match [A-Za-z0-9][A-Za-z0-9_.-]*`);
    }
    try {
      checkIfname(ifname, "CNI_IFNAME");
    } catch (e) {
      if (e instanceof InvalidValueError) throw envError(["CNI_IFNAME"], e.reason);
      throw e;
    }
    if (netns && !netns.startsWith("/")) throw envError(["CNI_NETNS"], `"${netns}" must be an absolute path`);
  }
  return {
    command: cmd,
    containerId,
    netns,
    ifname,
    args: parseCniArgs(env.CNI_ARGS ?? ""),
    path: (env.CNI_PATH ?? "").split(":").filter((p) => p !== ""),
  };
}

/** CNI_ARGS "K=V;K2=V2". A pair without '=' is an error naming it. */
export function parseCniArgs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of text.split(";")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq <= 0) throw envError(["CNI_ARGS"], `has "${pair}", which is not KEY=VALUE`);
    out.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return out;
}
