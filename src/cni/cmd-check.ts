import { CniCode, CniError } from "../errors/cni-error.ts";
import { formatNetwork, parseCidr } from "../model/cidr.ts";
import { refuseOwnNetns } from "./cmd-add.ts";
import type { CniRequest } from "./cni-request.ts";
import { ipamFor, stateDirOf } from "./cni-request.ts";
import { hostVethName } from "./host-veth-name.ts";
import { masqueradePresent } from "./masquerade.ts";
import { parseResult } from "./shape-result.ts";

const failed = (msg: string, hint: string) => new CniError(CniCode.checkFailed, msg, "", hint);

function routeKey(dst: string): string {
  const c = parseCidr(dst, "routes[].dst");
  return c.prefix === 0 ? "default" : formatNetwork(c);
}

/**
 * CNI CHECK: everything ADD made and listed in prevResult is still there — the pod interface
 * with its MAC and addresses, its routes, the host veth (on the bridge, or with its /32 route),
 * the address reservation and the ipMasq chain. Other plugins may have added things; only what
 * is missing or wrong is an error.
 */
export async function cmdCheck(req: CniRequest): Promise<void> {
  const { deps, env, conf } = req;
  if (conf.prevResult === undefined) {
    throw new CniError(
      CniCode.invalidConfig,
      "CHECK needs prevResult (the result of ADD)",
      "",
      "the runtime sends it",
    );
  }
  const prev = parseResult(conf.prevResult);
  if (!deps.host.pathExists(env.netns)) {
    throw new CniError(CniCode.unknownContainer, `network namespace ${env.netns} (CNI_NETNS) does not exist`);
  }
  refuseOwnNetns(req);
  const idx = (prev.interfaces ?? []).findIndex((i) => i.name === env.ifname && i.sandbox === env.netns);
  if (idx < 0)
    throw failed(
      `prevResult lists no interface ${env.ifname} in ${env.netns}`,
      "was this ADD made by tartan?",
    );
  const expected = prev.interfaces![idx]!;
  const link = await deps.dataplane.link(env.netns, env.ifname);
  if (!link)
    throw failed(`interface ${env.ifname} is missing in ${env.netns}`, "delete and re-create the pod");
  if (expected.mac && link.mac !== expected.mac.toLowerCase()) {
    throw failed(
      `interface ${env.ifname} has MAC ${link.mac}, expected ${expected.mac}`,
      "something changed the pod interface",
    );
  }
  if (!link.up) throw failed(`interface ${env.ifname} is down`, "bring it up or re-create the pod");
  const have = new Set((await deps.dataplane.addrs(env.netns, env.ifname)).map((a) => a.cidr));
  const ours = (prev.ips ?? []).filter((ip) => ip.interface === idx);
  for (const ip of ours) {
    if (![...have].some((h) => sameAddress(h, ip.address))) {
      throw failed(`address ${ip.address} is missing on ${env.ifname}`, "delete and re-create the pod");
    }
  }
  for (const family of [4, 6] as const) {
    const wanted = (prev.routes ?? []).filter((r) => (r.dst.includes(":") ? 6 : 4) === family);
    if (wanted.length === 0) continue;
    const present = new Set((await deps.dataplane.routes(env.netns, family)).map((r) => r.dst));
    for (const r of wanted) {
      if (!present.has(routeKey(r.dst)))
        throw failed(`route to ${r.dst} is missing in ${env.netns}`, "delete and re-create the pod");
    }
  }
  const hostIfname = hostVethName(conf.name, env.containerId, env.ifname);
  const host = await deps.dataplane.link(null, hostIfname);
  if (!host) throw failed(`host interface ${hostIfname} is missing`, "delete and re-create the pod");
  if (conf.mode === "bridge" && host.master !== conf.bridge) {
    throw failed(
      `host interface ${hostIfname} is not a port of bridge ${conf.bridge}`,
      "delete and re-create the pod",
    );
  }
  if (conf.mode === "routed") {
    for (const ip of ours) {
      const c = parseCidr(ip.address);
      const routes = await deps.dataplane.routes(null, c.ip.family);
      if (!routes.some((r) => r.dev === hostIfname && sameAddress(r.dst, ip.address))) {
        throw failed(
          `host route to ${ip.address} via ${hostIfname} is missing`,
          "delete and re-create the pod",
        );
      }
    }
  }
  const store = deps.openStore(stateDirOf(conf));
  try {
    await ipamFor(req, store).check();
  } finally {
    store.close();
  }
  if (conf.ipMasq && !(await masqueradePresent(deps, conf.name))) {
    throw failed(
      `the ipMasq chain of network "${conf.name}" is missing from table inet tartan`,
      "run ADD for a new pod or restart the agent to restore it",
    );
  }
}

function sameAddress(a: string, b: string): boolean {
  const x = parseCidr(a.includes("/") ? a : `${a}/${a.includes(":") ? 128 : 32}`);
  const y = parseCidr(b.includes("/") ? b : `${b}/${b.includes(":") ? 128 : 32}`);
  return x.ip.family === y.ip.family && x.ip.value === y.ip.value;
}
