import { CniCode, CniError } from "../errors/cni-error.ts";
import {
  isSupportedVersion,
  parseVersion,
  SUPPORTED_CNI_VERSIONS,
  versionAtLeast,
} from "../model/cni-version.ts";
import { type NetConf, parseNetConf } from "../model/net-conf.ts";
import type { CniDeps } from "./cni-deps.ts";
import { parseCniEnv } from "./cni-env.ts";
import { type CniOutcome, cniErrorOutput } from "./cni-error-output.ts";
import { checkDelegationDepth } from "./delegation-depth.ts";
import { MAX_STDIN_BYTES, stdinTooLarge } from "./read-cni-stdin.ts";
import { toCniError } from "./to-cni-error.ts";
import { requestedCniVersion, versionAnswer } from "./version-answer.ts";

export type { CniOutcome } from "./cni-error-output.ts";

/** Parses stdin: bad JSON → 6, bad or unsupported version → 1, invalid fields → 7 (via toCniError). */
function readConfig(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(
      CniCode.decodeFailure,
      `network config on stdin is not valid JSON: ${e instanceof Error ? e.message : e}`,
      "",
      "the runtime passes the network configuration as JSON on stdin",
    );
  }
  const version = (raw as { cniVersion?: unknown })?.cniVersion;
  if (typeof version === "string" && !parseVersion(version)) {
    throw new CniError(CniCode.decodeFailure, `cniVersion "${version}" is not a version string (x.y.z)`);
  }
  if (typeof version === "string" && !isSupportedVersion(version)) {
    throw new CniError(
      CniCode.incompatibleVersion,
      `cniVersion ${version} is not supported; tartan supports ${SUPPORTED_CNI_VERSIONS.join(", ")}`,
      "",
      `set "cniVersion" to one of those in the network configuration`,
    );
  }
  return parseNetConf(raw);
}

/**
 * stdin as given (a string from tests, bounded by MAX_STDIN_BYTES here too) or read by `readCniStdin`
 * (main.ts), which stops reading at the limit.
 */
export type CniStdin = string | (() => Promise<string>);

/** The network config text, refused past MAX_STDIN_BYTES (shared with tartan-ipam). */
export async function textOf(stdin: CniStdin): Promise<string> {
  // A reader (the executables') stops at the limit itself; a string (tests) is measured here.
  if (typeof stdin !== "string") return await stdin();
  if (Buffer.byteLength(stdin) > MAX_STDIN_BYTES) throw stdinTooLarge();
  return stdin;
}

/**
 * One CNI invocation: the spec's process contract in a function (tests call it directly with fake
 * deps; main.ts with the real ones). Never throws: errors become the spec's error JSON.
 */
export async function runCni(
  deps: CniDeps,
  rawEnv: Record<string, string | undefined>,
  input: CniStdin,
): Promise<CniOutcome> {
  // Read first, so that even an environment error answers in the config's cniVersion.
  let stdin = "";
  let readError: unknown;
  try {
    stdin = await textOf(input);
  } catch (e) {
    readError = e;
  }
  let version = requestedCniVersion(stdin);
  try {
    const env = parseCniEnv(rawEnv);
    // VERSION needs no config: a stdin that cannot be read is no reason to fail it.
    if (readError !== undefined && env.command !== "VERSION") throw readError;
    checkDelegationDepth(rawEnv, env);
    if (env.command === "VERSION") {
      return { stdout: versionAnswer(stdin), exitCode: 0 };
    }
    let conf: NetConf;
    try {
      conf = readConfig(stdin);
    } catch (e) {
      if (env.command === "DEL" && toCniError(e).cniCode === CniCode.invalidConfig) {
        await (await import("./cmd-del-lenient.ts")).cmdDelLenient(
          deps,
          env,
          JSON.parse(stdin),
          stdin,
          toCniError(e).message,
        );
        return { stdout: "", exitCode: 0 };
      }
      throw e;
    }
    version = conf.cniVersion;
    if (env.command === "CHECK" && !versionAtLeast(version, "0.4.0")) {
      throw new CniError(
        CniCode.incompatibleVersion,
        `CHECK is not defined for cniVersion ${version} (needs 0.4.0 or later)`,
      );
    }
    if ((env.command === "GC" || env.command === "STATUS") && !versionAtLeast(version, "1.1.0")) {
      throw new CniError(
        CniCode.incompatibleVersion,
        `${env.command} is not defined for cniVersion ${version} (needs 1.1.0)`,
      );
    }
    const req = { deps, env, conf, stdin };
    switch (env.command) {
      // Each verb's modules are loaded when that verb runs: a plugin process runs one verb, and
      // evaluating the others' modules was paid by every call.
      case "ADD": {
        const [{ cmdAdd }, { shapeResult }] = await Promise.all([
          import("./cmd-add.ts"),
          import("./shape-result.ts"),
        ]);
        const result = await cmdAdd(req);
        return { stdout: JSON.stringify(shapeResult(result, version)), exitCode: 0 };
      }
      case "DEL":
        try {
          await (await import("./cmd-del.ts")).cmdDel(req);
        } catch (e) {
          // A config ADD would refuse (found deeper than parseNetConf, e.g. in the ipam ranges)
          // must not make DEL fail forever: clean up what can be found, succeed.
          if (toCniError(e).cniCode !== CniCode.invalidConfig) throw e;
          // Rare (a config ADD would refuse): loaded only then, not on every plugin start.
          await (await import("./cmd-del-lenient.ts")).cmdDelLenient(
            deps,
            env,
            conf.raw,
            stdin,
            toCniError(e).message,
          );
        }
        return { stdout: "", exitCode: 0 };
      case "CHECK":
        await (await import("./cmd-check.ts")).cmdCheck(req);
        return { stdout: "", exitCode: 0 };
      case "GC":
        await (await import("./cmd-gc.ts")).cmdGc(req);
        return { stdout: "", exitCode: 0 };
      case "STATUS":
        await (await import("./cmd-status.ts")).cmdStatus(req);
        return { stdout: "", exitCode: 0 };
    }
  } catch (e) {
    return cniErrorOutput(deps, e, version, {
      command: rawEnv.CNI_COMMAND,
      container: rawEnv.CNI_CONTAINERID,
    });
  }
}
