import type { CniDns } from "./cni-result.ts";
import { checkIfname } from "./ifname.ts";
import { InvalidValueError } from "./invalid-value.ts";
import { shownValue } from "./shown-value.ts";

export type PodMode = "bridge" | "routed";

/** One `{containerID, ifname}` of a GC request's `cni.dev/valid-attachments`. */
export interface AttachmentKey {
  containerID: string;
  ifname: string;
}

/**
 * The tartan plugin's network configuration (its stdin), validated. `raw` keeps the object as
 * received: it is what a delegated IPAM plugin must be given, unchanged.
 */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  mode: PodMode;
  bridge: string;
  mtu?: number;
  ipMasq: boolean;
  hairpinMode: boolean;
  ipam: { type: string } & Record<string, unknown>;
  dns?: CniDns;
  /** Static addresses requested through runtimeConfig.ips or args.cni.ips (args wins). */
  requestedIps: string[];
  /** runtimeConfig.mac, when the runtime asked for one. */
  mac?: string;
  prevResult?: unknown;
  validAttachments?: AttachmentKey[];
  raw: Record<string, unknown>;
}

export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/**
 * The network name becomes the nft chain `masq-<name>`, the comment "tartan ipMasq <name>" (nft
 * allows 128 characters) and the marker file `masq-<name>.key` (255 bytes): 100 leaves room.
 * Before this limit, a longer name failed ADD, and every later DEL, forever.
 */
export const MAX_NETWORK_NAME = 100;
/** ipam.type values that would run this plugin again as its own IPAM (endless recursion). */
const SELF_TYPES = new Set(["tartan"]);
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(o: Record<string, unknown>, key: string, field = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new InvalidValueError(field, `must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(o: Record<string, unknown>, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "boolean")
    throw new InvalidValueError(key, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new InvalidValueError(field, `must be a list of strings, got ${JSON.stringify(v)}`);
  }
  return v as string[];
}

function parseDns(v: unknown): CniDns | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw new InvalidValueError("dns", `must be an object, got ${JSON.stringify(v)}`);
  const dns: CniDns = {};
  const ns = stringList(v.nameservers, "dns.nameservers");
  if (ns.length) dns.nameservers = ns;
  const domain = str(v, "domain", "dns.domain");
  if (domain) dns.domain = domain;
  const search = stringList(v.search, "dns.search");
  if (search.length) dns.search = search;
  const options = stringList(v.options, "dns.options");
  if (options.length) dns.options = options;
  return Object.keys(dns).length ? dns : undefined;
}

function parseAttachments(raw: Record<string, unknown>): AttachmentKey[] | undefined {
  const v = raw["cni.dev/valid-attachments"] ?? raw["cni.dev/attachments"];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new InvalidValueError("cni.dev/valid-attachments", "must be a list");
  return v.map((a, i) => {
    const field = `cni.dev/valid-attachments[${i}]`;
    if (!isObject(a) || typeof a.containerID !== "string" || typeof a.ifname !== "string") {
      throw new InvalidValueError(field, `must be {containerID, ifname}, got ${JSON.stringify(a)}`);
    }
    return { containerID: a.containerID, ifname: a.ifname };
  });
}

/** Whether an ipam.type would run this plugin (of type `type`) again as its own IPAM. */
export function namesPluginItself(ipamType: string, type: unknown): boolean {
  return ipamType === type || SELF_TYPES.has(ipamType);
}

/** A data directory, when set, is a non-empty absolute path: relative to the runtime's cwd means nothing. */
function checkDataDir(v: unknown, field: string): void {
  if (v === undefined || v === null) return;
  if (typeof v !== "string" || !v.startsWith("/")) {
    throw new InvalidValueError(field, `${shownValue(v)} must be an absolute path`);
  }
}

/** Validates the plugin's stdin object. Unknown keys are tolerated (the spec allows it). */
export function parseNetConf(raw: unknown): NetConf {
  if (!isObject(raw)) throw new InvalidValueError("config", "must be a JSON object");
  const cniVersion = str(raw, "cniVersion");
  if (!cniVersion) throw new InvalidValueError("cniVersion", "is required");
  const name = str(raw, "name");
  if (!name) throw new InvalidValueError("name", "is required (the network name)");
  if (!NETWORK_NAME_RE.test(name)) {
    throw new InvalidValueError(
      "name",
      `${shownValue(name)} may contain only letters, digits, '_', '.', '-' and must start with a letter or digit`,
    );
  }
  if (name.length > MAX_NETWORK_NAME) {
    throw new InvalidValueError(
      "name",
      `${shownValue(name, 40)} is ${name.length} characters long; at most ${MAX_NETWORK_NAME} (it names nft objects and files)`,
    );
  }
  const type = str(raw, "type") ?? "";
  if (!type || /[/\\]/.test(type))
    throw new InvalidValueError("type", `${shownValue(type)} must be a plugin name without '/' or '\\'`);
  const mode = str(raw, "mode") ?? "bridge";
  if (mode !== "bridge" && mode !== "routed") {
    throw new InvalidValueError("mode", `${shownValue(mode)} is not supported; use "bridge" or "routed"`);
  }
  const bridge = checkIfname(str(raw, "bridge") ?? "tartan0", "bridge");
  let mtu: number | undefined;
  if (raw.mtu !== undefined && raw.mtu !== null) {
    if (typeof raw.mtu !== "number" || !Number.isInteger(raw.mtu) || raw.mtu < 576 || raw.mtu > 65535) {
      throw new InvalidValueError(
        "mtu",
        `${JSON.stringify(raw.mtu)} must be an integer between 576 and 65535`,
      );
    }
    mtu = raw.mtu;
  }
  const ipam = raw.ipam;
  if (!isObject(ipam) || typeof ipam.type !== "string" || ipam.type === "" || /[/\\]/.test(ipam.type)) {
    throw new InvalidValueError("ipam.type", 'is required, e.g. {"type":"tartan-ipam", "ranges": [...]}');
  }
  if (namesPluginItself(ipam.type, type)) {
    throw new InvalidValueError(
      "ipam.type",
      `${shownValue(ipam.type)} names this plugin itself, which would call itself without end; use "tartan-ipam" or an IPAM plugin such as host-local`,
    );
  }
  checkDataDir(raw.dataDir, "dataDir");
  checkDataDir(ipam.dataDir, "ipam.dataDir");
  const rc = raw.runtimeConfig;
  if (rc !== undefined && !isObject(rc)) throw new InvalidValueError("runtimeConfig", "must be an object");
  const args = raw.args;
  const argsIps =
    isObject(args) && isObject(args.cni) ? stringList(args.cni.ips, "args.cni.ips") : ([] as string[]);
  const rcIps = isObject(rc) ? stringList(rc.ips, "runtimeConfig.ips") : [];
  const mac = isObject(rc) ? str(rc, "mac", "runtimeConfig.mac") : undefined;
  if (mac !== undefined && !MAC_RE.test(mac))
    throw new InvalidValueError("runtimeConfig.mac", `"${mac}" is not a MAC address`);
  return {
    cniVersion,
    name,
    type,
    mode,
    bridge,
    mtu,
    ipMasq: bool(raw, "ipMasq", false),
    hairpinMode: bool(raw, "hairpinMode", true),
    ipam: ipam as NetConf["ipam"],
    dns: parseDns(raw.dns),
    requestedIps: argsIps.length ? argsIps : rcIps,
    mac: mac?.toLowerCase(),
    prevResult: raw.prevResult,
    validAttachments: parseAttachments(raw),
    raw,
  };
}
