import { DEFAULT_IPAM_DIR, DEFAULT_STATE_DIR } from "../model/default-paths.ts";
import { MAX_NETWORK_NAME, NETWORK_NAME_RE, namesPluginItself } from "../model/net-conf.ts";
import { renderMasqueradeDelete } from "../render/masquerade-nft.ts";
import type { CniDeps } from "./cni-deps.ts";
import type { CniEnv } from "./cni-env.ts";
import { DelegatedIpam } from "./delegated-ipam.ts";
import { hostVethName } from "./host-veth-name.ts";
import { markerPath } from "./masquerade.ts";

/** The longest network name whose `masq-<name>` chain nft could ever have held (NFT_NAME_MAXLEN). */
const MAX_CHAIN_NETWORK = 250;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * DEL for a configuration that ADD would refuse (a name grown too long, a relative dataDir, an
 * ipam.type naming the plugin): it cleans up what it can find and succeeds, because a DEL that
 * fails forever keeps the runtime from ever forgetting the container. What it does, each step on
 * its own and failures only logged: removes the host veth (its name is a hash, so any network
 * name gives a tartan-owned name), releases the reservations and the attachment record of this
 * container in the store when the directory is an absolute path that exists (never created here),
 * asks a delegated IPAM plugin to DEL unless it is this plugin again, and removes the network's
 * ipMasq chain with its last attachment when the name could ever have been a chain.
 */
export async function cmdDelLenient(
  deps: CniDeps,
  env: CniEnv,
  raw: unknown,
  stdin: string,
  why: string,
): Promise<void> {
  deps.log("warn", "DEL with a config ADD would refuse: cleaning up what can be found", { error: why });
  const note = (what: string, e: unknown) =>
    deps.log("warn", `DEL (lenient): ${what} failed`, { error: e instanceof Error ? e.message : String(e) });
  const o = isObject(raw) ? raw : {};
  const name = typeof o.name === "string" ? o.name : "";
  const ipam = isObject(o.ipam) ? o.ipam : {};
  const ipamType = typeof ipam.type === "string" ? ipam.type : "";
  const inProcess = ipamType === "tartan-ipam";
  if (name === "") return;

  const hostIfname = hostVethName(name, env.containerId, env.ifname);
  if (deps.host.linkExists(hostIfname)) {
    await deps.dataplane.apply(null, [{ op: "link-del", name: hostIfname }]).catch((e) => {
      if (deps.host.linkExists(hostIfname)) note(`removing ${hostIfname}`, e);
    });
  }

  const dirValue = inProcess ? ipam.dataDir : o.dataDir;
  const dir =
    dirValue === undefined || dirValue === null
      ? inProcess
        ? DEFAULT_IPAM_DIR
        : DEFAULT_STATE_DIR
      : typeof dirValue === "string" && dirValue.startsWith("/")
        ? dirValue
        : undefined;
  let left: number | undefined;
  if (dir !== undefined && deps.host.pathExists(dir)) {
    try {
      const store = deps.openStore(dir);
      try {
        left = store.transaction((tx) => {
          if (inProcess) tx.release(name, env.containerId, env.ifname);
          tx.deleteAttachment(name, env.containerId, env.ifname);
          return tx.attachments(name).length;
        });
      } finally {
        store.close();
      }
    } catch (e) {
      note(`the store in ${dir}`, e);
    }
  }

  if (!inProcess && ipamType !== "" && !/[/\\]/.test(ipamType) && !namesPluginItself(ipamType, o.type)) {
    await new DelegatedIpam(deps, env, ipamType, stdin)
      .del()
      .catch((e) => note(`IPAM plugin ${ipamType} DEL`, e));
  }

  const couldBeChain = NETWORK_NAME_RE.test(name) && name.length <= MAX_CHAIN_NETWORK;
  if (o.ipMasq === true && left === 0 && dir !== undefined && couldBeChain) {
    // The marker's file name may be too long to exist (ENAMETOOLONG): the chain goes regardless.
    try {
      deps.removeMarker(markerPath(dir, name));
    } catch (e) {
      note("removing the ipMasq marker", e);
    }
    await deps.nft
      .apply(null, renderMasqueradeDelete(name))
      .catch((e) => note("removing the ipMasq chain", e));
  }
  deps.log("info", "DEL (lenient) done", { network: name.slice(0, MAX_NETWORK_NAME) });
}
