import { CniCode, CniError } from "../errors/cni-error.ts";
import { parseIpamConfig } from "../ipam/ipam-config.ts";
import { isSupportedVersion, SUPPORTED_CNI_VERSIONS, versionAtLeast } from "../model/cni-version.ts";
import { DEFAULT_IPAM_DIR } from "../model/default-paths.ts";
import { NETWORK_NAME_RE } from "../model/net-conf.ts";
import type { CniDeps } from "./cni-deps.ts";
import { parseCniEnv } from "./cni-env.ts";
import { type CniOutcome, cniErrorOutput } from "./cni-error-output.ts";
import { checkDelegationDepth } from "./delegation-depth.ts";
import { InProcessIpam } from "./in-process-ipam.ts";
import { type CniStdin, textOf } from "./run-cni.ts";
import { shapeResult } from "./shape-result.ts";
import { toCniError } from "./to-cni-error.ts";
import { versionAnswer } from "./version-answer.ts";

/**
 * tartan's IPAM as a standalone plugin (invoked as `tartan-ipam`), for other interface plugins to
 * delegate to. It reads only name, cniVersion and the ipam section: the rest of the config belongs
 * to the calling plugin and may mean anything. Results are IPAM results (no interfaces).
 */
export async function runIpamPlugin(
  deps: CniDeps,
  rawEnv: Record<string, string | undefined>,
  input: CniStdin,
): Promise<CniOutcome> {
  let version = "1.1.0";
  try {
    const env = parseCniEnv(rawEnv);
    const stdin = await textOf(input);
    checkDelegationDepth(rawEnv, env);
    let raw: Record<string, unknown> = {};
    try {
      const parsed: unknown = stdin.trim() ? JSON.parse(stdin) : {};
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error("it is not a JSON object");
      }
      raw = parsed as Record<string, unknown>;
    } catch (e) {
      if (env.command !== "VERSION")
        throw new CniError(
          CniCode.decodeFailure,
          `network config on stdin is not valid JSON: ${e instanceof Error ? e.message : e}`,
        );
    }
    if (typeof raw.cniVersion === "string" && raw.cniVersion) version = raw.cniVersion;
    if (env.command === "VERSION") return { stdout: versionAnswer(stdin), exitCode: 0 };
    if (!isSupportedVersion(version)) {
      throw new CniError(
        CniCode.incompatibleVersion,
        `cniVersion ${version} is not supported; tartan-ipam supports ${SUPPORTED_CNI_VERSIONS.join(", ")}`,
      );
    }
    if (typeof raw.name !== "string" || !NETWORK_NAME_RE.test(raw.name)) {
      throw new CniError(
        CniCode.invalidConfig,
        `name ${JSON.stringify(raw.name)} must be a valid network name`,
      );
    }
    if ((env.command === "GC" || env.command === "STATUS") && !versionAtLeast(version, "1.1.0")) {
      throw new CniError(CniCode.incompatibleVersion, `${env.command} needs cniVersion 1.1.0`);
    }
    const ipamSection = (raw.ipam ?? {}) as Record<string, unknown>;
    const ipArg = env.args.get("IP");
    let config: ReturnType<typeof parseIpamConfig>;
    try {
      config = parseIpamConfig(raw, ipArg ? ipArg.split(",") : []);
    } catch (e) {
      // DEL must not fail forever on a config ADD would refuse: release this container's
      // addresses where they can be found (an absolute dataDir that exists), then succeed.
      if (env.command !== "DEL" || toCniError(e).cniCode !== CniCode.invalidConfig) throw e;
      const dir = ipamSection.dataDir ?? DEFAULT_IPAM_DIR;
      if (typeof dir === "string" && dir.startsWith("/") && deps.host.pathExists(dir)) {
        // Best effort, like cmdDelLenient: a store that cannot be opened must not fail this DEL.
        try {
          const store = deps.openStore(dir);
          try {
            store.transaction((tx) => tx.release(raw.name as string, env.containerId, env.ifname));
          } finally {
            store.close();
          }
        } catch (storeError) {
          deps.log("warn", "DEL: could not release from the IPAM store", {
            error: toCniError(storeError).message,
          });
        }
      }
      deps.log("warn", "DEL with a config ADD would refuse: released what could be found", {
        error: toCniError(e).message,
      });
      return { stdout: "", exitCode: 0 };
    }
    const store = deps.openStore(config.dataDir ?? DEFAULT_IPAM_DIR);
    try {
      const ipam = new InProcessIpam(
        store,
        config,
        { containerId: env.containerId, ifname: env.ifname },
        ipamSection,
        deps.requestBlock,
      );
      switch (env.command) {
        case "ADD":
          return { stdout: JSON.stringify(shapeResult(await ipam.add(), version)), exitCode: 0 };
        case "DEL":
          await ipam.del();
          break;
        case "CHECK":
          await ipam.check();
          break;
        case "GC": {
          const valid = (raw["cni.dev/valid-attachments"] ?? raw["cni.dev/attachments"]) as
            | { containerID: string; ifname: string }[]
            | undefined;
          if (!Array.isArray(valid))
            throw new CniError(CniCode.invalidConfig, "GC needs cni.dev/valid-attachments");
          await ipam.gc(valid);
          break;
        }
        case "STATUS":
          await ipam.status();
          break;
      }
      return { stdout: "", exitCode: 0 };
    } finally {
      store.close();
    }
  } catch (e) {
    return cniErrorOutput(deps, e, version, { plugin: "tartan-ipam", command: rawEnv.CNI_COMMAND });
  }
}
