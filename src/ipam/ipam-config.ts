import { parseIpOrCidr } from "../model/cidr.ts";
import { formatIp, type Ip } from "../model/ip.ts";
import { ipamConfigError, parseConfigField } from "./ipam-config-error.ts";
import { parseRangeSet, type RangeSet, rangesOverlap } from "./range-set.ts";

/** Everything the allocator needs from one CNI request, validated. */
export interface IpamConfig {
  /** The CNI network name: reservations are scoped by it. */
  readonly network: string;
  /** ipam.dataDir, when the config sets one (else DEFAULT_IPAM_DIR, model/default-paths.ts). */
  readonly dataDir: string | undefined;
  /** Empty with nodeBlocks: the ranges are then the node's blocks, read at allocation time. */
  readonly rangeSets: readonly RangeSet[];
  /** ipam.nodeBlocks: allocate from the blocks the agent claimed for this node (block IPAM). */
  readonly nodeBlocks: boolean;
  /** ipam.agentSocket: where the agent answers block requests when the node's blocks are full. */
  readonly agentSocket: string | undefined;
  /** Static addresses asked for (runtimeConfig.ips, args.cni.ips, CNI_ARGS IP=), deduplicated. */
  readonly requestedIps: readonly Ip[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function objectAt(parent: Obj, key: string, field: string): Obj | undefined {
  const v = parent[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw ipamConfigError(field, "must be an object");
  return v;
}

function listAt(parent: Obj | undefined, key: string, field: string): unknown[] {
  const v = parent?.[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw ipamConfigError(field, "must be a list");
  return v;
}

function parseRequestedIps(sources: [string, unknown[]][]): Ip[] {
  const out = new Map<string, Ip>();
  for (const [field, list] of sources) {
    list.forEach((v, i) => {
      if (typeof v !== "string")
        throw ipamConfigError(`${field}[${i}]`, 'must be a string "ip" or "ip/prefix"');
      // The prefix, when given, is ignored like host-local does: the subnet's prefix is the truth.
      const ip = parseConfigField(`${field}[${i}]`, (f) => parseIpOrCidr(v, f)).ip;
      out.set(formatIp(ip), ip);
    });
  }
  return [...out.values()];
}

/**
 * Reads the IPAM part of a CNI request (the whole stdin object) the way host-local does: range
 * sets come from runtimeConfig.ipRanges, then the legacy single range at ipam.subnet, then
 * ipam.ranges (in that order); range sets must not overlap each other. `cniArgsIps` are the
 * `IP=` values of CNI_ARGS, which the CNI layer parses.
 */
export function parseIpamConfig(netconf: unknown, cniArgsIps: readonly string[] = []): IpamConfig {
  if (!isObj(netconf)) throw ipamConfigError("config", "must be a JSON object");
  const network = netconf["name"];
  if (typeof network !== "string" || network === "") {
    throw ipamConfigError("name", "the network name is required (it scopes the address reservations)");
  }
  const ipam = objectAt(netconf, "ipam", "ipam") ?? {};
  const runtimeConfig = objectAt(netconf, "runtimeConfig", "runtimeConfig");
  const args = objectAt(netconf, "args", "args");
  const cniArgs = args ? objectAt(args, "cni", "args.cni") : undefined;

  const dataDir = ipam["dataDir"];
  if (dataDir !== undefined && (typeof dataDir !== "string" || dataDir === "")) {
    throw ipamConfigError("ipam.dataDir", "must be a non-empty path");
  }
  // Relative to what? The runtime's working directory, which nobody chose: refused.
  if (typeof dataDir === "string" && !dataDir.startsWith("/")) {
    throw ipamConfigError("ipam.dataDir", `${JSON.stringify(dataDir.slice(0, 80))} must be an absolute path`);
  }

  const nodeBlocks = ipam["nodeBlocks"] ?? false;
  if (typeof nodeBlocks !== "boolean") throw ipamConfigError("ipam.nodeBlocks", "must be true or false");
  const agentSocket = ipam["agentSocket"];
  if (agentSocket !== undefined && (typeof agentSocket !== "string" || !agentSocket.startsWith("/"))) {
    throw ipamConfigError("ipam.agentSocket", "must be an absolute path to the agent's unix socket");
  }

  const rawSets: [string, unknown][] = [
    ...listAt(runtimeConfig, "ipRanges", "runtimeConfig.ipRanges").map((s, i): [string, unknown] => [
      `runtimeConfig.ipRanges[${i}]`,
      s,
    ]),
    ...(ipam["subnet"] !== undefined ? [["ipam", [ipam]] as [string, unknown]] : []),
    ...listAt(ipam, "ranges", "ipam.ranges").map((s, i): [string, unknown] => [`ipam.ranges[${i}]`, s]),
  ];
  if (nodeBlocks && (ipam["subnet"] !== undefined || ipam["ranges"] !== undefined)) {
    throw ipamConfigError(
      "ipam.nodeBlocks",
      "cannot be combined with ipam.ranges or ipam.subnet: the node's blocks are the ranges",
      "remove ranges/subnet, or set nodeBlocks to false",
    );
  }
  if (rawSets.length === 0 && !nodeBlocks) {
    throw ipamConfigError(
      "ipam.ranges",
      "no address ranges configured",
      'add "ranges": [[{"subnet": "10.88.0.0/16"}]]',
    );
  }
  // With nodeBlocks the runtime's ipRanges are ignored: addresses must come from owned blocks.
  const rangeSets = nodeBlocks ? [] : rawSets.map(([field, raw], i) => parseRangeSet(raw, i, field));
  rangeSets.forEach((set, i) => {
    for (let j = 0; j < i; j++) {
      for (const a of set.ranges) {
        const b = rangeSets[j]!.ranges.find((r) => rangesOverlap(a, r));
        if (b) {
          throw ipamConfigError(
            rawSets[i]![0],
            `range ${a.key} overlaps range ${b.key} of ${rawSets[j]![0]}; range sets must be disjoint`,
          );
        }
      }
    }
  });

  const requestedIps = parseRequestedIps([
    ["runtimeConfig.ips", listAt(runtimeConfig, "ips", "runtimeConfig.ips")],
    ["args.cni.ips", listAt(cniArgs, "ips", "args.cni.ips")],
    ["CNI_ARGS IP", [...cniArgsIps]],
  ]);
  return {
    network,
    dataDir: dataDir as string | undefined,
    rangeSets,
    nodeBlocks,
    agentSocket: agentSocket as string | undefined,
    requestedIps,
  };
}
