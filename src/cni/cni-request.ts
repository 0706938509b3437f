import type { IpamStore } from "../datastore/ipam-store.ts";
import { parseIpamConfig } from "../ipam/ipam-config.ts";
import { ipamConfigError } from "../ipam/ipam-config-error.ts";
import { DEFAULT_IPAM_DIR, DEFAULT_STATE_DIR } from "../model/default-paths.ts";
import type { NetConf } from "../model/net-conf.ts";
import type { CniDeps } from "./cni-deps.ts";
import type { CniEnv } from "./cni-env.ts";
import { DelegatedIpam } from "./delegated-ipam.ts";
import { InProcessIpam } from "./in-process-ipam.ts";
import type { IpamBackend } from "./ipam-backend.ts";

export const IN_PROCESS_IPAM_TYPE = "tartan-ipam";

/** One parsed invocation: what every verb handler receives. */
export interface CniRequest {
  deps: CniDeps;
  env: CniEnv;
  conf: NetConf;
  stdin: string;
}

/** The store holding this network's attachment records (and reservations, for tartan-ipam). */
export function stateDirOf(conf: NetConf): string {
  if (conf.ipam.type === IN_PROCESS_IPAM_TYPE) {
    const d = conf.ipam.dataDir;
    if (d !== undefined && (typeof d !== "string" || d === ""))
      throw ipamConfigError("ipam.dataDir", "must be a non-empty path");
    return (d as string | undefined) ?? DEFAULT_IPAM_DIR;
  }
  const d = conf.raw.dataDir;
  return typeof d === "string" && d !== "" ? d : DEFAULT_STATE_DIR;
}

/** The IPAM backend for this request: in-process for tartan-ipam, else the delegated plugin. */
export function ipamFor(req: CniRequest, store: IpamStore): IpamBackend {
  const { conf, env } = req;
  if (conf.ipam.type === IN_PROCESS_IPAM_TYPE) {
    // args.cni.ips / runtimeConfig.ips beat the deprecated CNI_ARGS IP= (CNI conventions).
    const cniArgsIp = conf.requestedIps.length ? undefined : env.args.get("IP");
    const config = parseIpamConfig(conf.raw, cniArgsIp ? cniArgsIp.split(",") : []);
    return new InProcessIpam(
      store,
      config,
      { containerId: env.containerId, ifname: env.ifname },
      conf.ipam,
      req.deps.requestBlock,
    );
  }
  return new DelegatedIpam(req.deps, env, conf.ipam.type, req.stdin, store);
}
