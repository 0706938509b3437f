import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { DatastoreConfig } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { checkPool } from "../ipam/check-pool.ts";
import { DEFAULT_AGENT_SOCKET } from "../model/agent-api.ts";
import { DEFAULT_BLOCK_SIZE, DEFAULT_POOLS, type IPPoolSpec } from "../model/cluster-resources.ts";
import { DEFAULT_IPAM_DIR } from "../model/default-paths.ts";
import { InvalidValueError } from "../model/invalid-value.ts";
import { NETWORK_NAME_RE } from "../model/net-conf.ts";
import {
  DEFAULT_ROUTING_BACKEND,
  ROUTING_BACKENDS,
  type RoutingBackendName,
} from "../model/routing-backend.ts";
import { parseUnderlaySelector } from "../model/underlay-selector.ts";

export interface AgentPool extends IPPoolSpec {
  /** The IPPool's name in the datastore. */
  name: string;
}

/** `tartan agent --config FILE`, validated and defaulted. */
export interface AgentConfig {
  nodeName: string;
  datastore: DatastoreConfig;
  backend: RoutingBackendName;
  /**
   * The interface whose address peers reach this node at (its subnet and MTU are read from it):
   * a name, or a form that finds it on each node (model/underlay-selector.ts).
   */
  underlayInterface: string;
  pools: AgentPool[];
  /** The CNI network name the agent keeps the node's blocks for. */
  network: string;
  ipamDataDir: string;
  socket: string;
  /** host:port of GET /healthz and /metrics; "" turns the listener off. */
  metricsAddress: string;
  vxlan: { vni: number; port: number };
  blockReleaseGraceSeconds: number;
  resyncSeconds: number;
  heartbeatSeconds: number;
  /** Enforce Kubernetes NetworkPolicy for this node's pods (nftables; decision 0009). */
  networkPolicy: boolean;
  /** A Node whose heartbeat has not changed for this long is marked not ready (decision 0014). */
  nodeNotReadyAfterSeconds: number;
  /** … and after this long its blocks and Node are removed, if it is also silent on the underlay; 0: never. */
  nodeReclaimAfterSeconds: number;
  /** How the reclaimer checks that a silent node is really gone: ping its underlay address, or trust the datastore. */
  nodeReclaimProbe: "ping" | "none";
  /**
   * Where the node's pod addresses come from: `blocks` (default) claims IPAMBlocks from the pools;
   * `node-podcidr` (Kubernetes datastore only, Flannel's model) takes the core Node's
   * spec.podCIDRs, which the controller manager allocates, and claims nothing.
   */
  ipam?: { mode: IpamMode };
  /** The `bgp` backends' per-node settings and where BIRD lives (decision 0017). */
  bgp: AgentBgpConfig;
  /**
   * The CNI network config the agent writes once it is ready and removes when it stops
   * (Kubernetes mode: the runtime reports the node NetworkReady only once the file is there).
   * Absent: the agent writes none (the lab and hand-made installs write their own).
   */
  cniConfig?: AgentCniConfig;
}

export interface AgentCniConfig {
  /** Where the conflist goes: "/etc/cni/net.d/10-tartan.conflist". */
  file: string;
  /** The pods' MTU; 0: the underlay's MTU less the backend's encapsulation overhead. */
  mtu: number;
  /** Remove the file when the agent stops, so no pod is started while no agent serves the node. */
  removeOnStop: boolean;
}

export type IpamMode = "blocks" | "node-podcidr";

/** The agent config's `bgp` section. */
export interface AgentBgpConfig {
  /** Published on the Node (`spec.bgp.asNumber`); default: the BGPConfiguration's AS. */
  asNumber?: number;
  /** Published on the Node: this node is a route reflector with this cluster ID (dotted IPv4). */
  routeReflectorClusterID?: string;
  /**
   * Published on the Node: the IPv6 next hop of this node's IPv6 blocks. Default: the first global
   * IPv6 address of underlayInterface; none → IPv6 blocks are not exchanged.
   */
  ipv6Address?: string;
  /** bird.conf, its control socket bird.ctl, bird.pid and bird.log live here (one per node). */
  stateDir: string;
  /** The bird executable: an absolute path, or a name looked up in PATH, then /usr/sbin and /usr/local/sbin. */
  birdPath: string;
  /** Node labels, merged into the Node's metadata.labels at registration (BGPPeer selectors match them). */
  labels: Record<string, string>;
}

export const DEFAULT_BIRD_STATE_DIR = "/run/tartan/bird";

export const DEFAULT_METRICS_ADDRESS = "127.0.0.1:9641";

/**
 * Whether the agent writes Pod status (podIPs, phase). Not in Kubernetes mode: there Pod status
 * belongs to kubelet, which records the IPs the CNI ADD returned; the agent keeps the IPs it
 * learns from the plugin locally until kubelet's write arrives (decision 0015).
 */
export const agentWritesPodStatus = (c: Pick<AgentConfig, "datastore">): boolean =>
  c.datastore.type !== "kubernetes";

const name = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a DNS-1123 name (lower case)");

const absPath = z.string().startsWith("/", "must be an absolute path");

/** The `datastore` section: shared by the agent config and the CLI's datastore files (--config). */
const datastoreSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("local"), path: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal("etcd"),
      endpoints: z
        .array(z.string().regex(/^https?:\/\/[^/]+\/?$/, "must be http://HOST:PORT or https://HOST:PORT"))
        .min(1),
      prefix: z.string().min(1).optional(),
      timeoutMs: z.number().int().positive().optional(),
      tls: z
        .object({ caFile: absPath, certFile: absPath.optional(), keyFile: absPath.optional() })
        .strict()
        .refine((t) => !t.certFile === !t.keyFile, "certFile and keyFile go together")
        .optional(),
      auth: z
        .object({ username: z.string().min(1), passwordFile: absPath })
        .strict()
        .optional(),
    })
    .strict()
    .refine(
      (d) => !d.tls || d.endpoints.every((e) => e.startsWith("https://")),
      "with tls, every endpoint must be https://",
    ),
  // The Kubernetes API (decision 0015): a kubeconfig, or in-cluster (the pod's service account).
  z
    .object({
      type: z.literal("kubernetes"),
      kubeconfig: absPath.optional(),
      context: z.string().min(1).optional(),
      inCluster: z.boolean().optional(),
      namespace: z
        .string()
        .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a namespace name")
        .optional(),
      timeoutMs: z.number().int().positive().optional(),
    })
    .strict()
    .refine((d) => !(d.inCluster && d.kubeconfig), "inCluster and kubeconfig exclude each other")
    .refine((d) => !d.context || d.kubeconfig, "context needs a kubeconfig")
    .transform(({ inCluster: _, ...d }) => d),
]);

const schema = z
  .object({
    // Optional: the DaemonSet passes the node's name as NODE_NAME (downward API, spec.nodeName).
    nodeName: name.optional(),
    datastore: datastoreSchema,
    backend: z.enum(ROUTING_BACKENDS).default(DEFAULT_ROUTING_BACKEND),
    underlayInterface: z.string().superRefine((v, ctx) => {
      try {
        parseUnderlaySelector(v);
      } catch (e) {
        ctx.addIssue({ code: "custom", message: e instanceof InvalidValueError ? e.reason : String(e) });
      }
    }),
    pools: z
      .array(
        z
          .object({
            name: name.optional(),
            cidr: z.string(),
            blockSize: z.number().int().optional(),
            natOutgoing: z.boolean().optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    network: z.string().regex(NETWORK_NAME_RE, "must be a CNI network name").default("tartan"),
    ipamDataDir: z.string().startsWith("/").default(DEFAULT_IPAM_DIR),
    socket: z.string().startsWith("/").default(DEFAULT_AGENT_SOCKET),
    metricsAddress: z
      .string()
      .regex(/^(|\[[0-9a-fA-F:.]+\]:\d+|[0-9.]+:\d+|localhost:\d+)$/, "must be host:port or empty")
      .default(DEFAULT_METRICS_ADDRESS),
    vxlan: z
      .object({
        vni: z.number().int().min(1).max(16777215).default(4096),
        port: z.number().int().min(1).max(65535).default(4789),
      })
      .strict()
      .default({ vni: 4096, port: 4789 }),
    blockReleaseGraceSeconds: z.number().min(0).default(300),
    resyncSeconds: z.number().positive().default(60),
    heartbeatSeconds: z.number().positive().default(30),
    networkPolicy: z.boolean().default(true),
    nodeNotReadyAfterSeconds: z.number().positive().optional(),
    nodeReclaimAfterSeconds: z.number().min(0).optional(),
    nodeReclaimProbe: z.enum(["ping", "none"]).default("ping"),
    ipam: z
      .object({ mode: z.enum(["blocks", "node-podcidr"]).default("blocks") })
      .strict()
      .optional(),
    bgp: z
      .object({
        asNumber: z
          .number()
          .int()
          .min(1)
          .max(4294967295)
          .refine((n) => n !== 23456, "23456 is AS_TRANS, not an AS")
          .optional(),
        routeReflectorClusterID: z
          .string()
          .regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/, "must be a dotted IPv4")
          .optional(),
        ipv6Address: z
          .string()
          .regex(/^[0-9a-fA-F:]+$/, "must be an IPv6 address")
          .optional(),
        stateDir: absPath.default(DEFAULT_BIRD_STATE_DIR),
        birdPath: z.string().min(1).default("bird"),
        labels: z
          .record(
            z
              .string()
              .regex(
                /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/,
                "must be a label key",
              ),
            z
              .string()
              .max(63)
              .regex(/^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]?$/, "must be a label value"),
          )
          .default({}),
      })
      .strict()
      .default({ stateDir: DEFAULT_BIRD_STATE_DIR, birdPath: "bird", labels: {} }),
    cniConfig: z
      .object({
        file: absPath.regex(/\.conflist$/, "must end in .conflist"),
        mtu: z.number().int().min(0).max(65535).default(0),
        removeOnStop: z.boolean().default(true),
      })
      .strict()
      .refine((c) => c.mtu === 0 || c.mtu >= 576, {
        path: ["mtu"],
        message: "must be 0 (auto) or at least 576",
      })
      .optional(),
  })
  .strict()
  .refine((c) => c.ipam?.mode !== "node-podcidr" || c.datastore.type === "kubernetes", {
    path: ["ipam", "mode"],
    message:
      "node-podcidr needs datastore.type kubernetes (the Node's spec.podCIDRs come from the API server)",
  })
  .refine(
    (c) => c.nodeNotReadyAfterSeconds === undefined || c.nodeNotReadyAfterSeconds > c.heartbeatSeconds,
    {
      path: ["nodeNotReadyAfterSeconds"],
      message: "must be longer than heartbeatSeconds (else live nodes are marked not ready)",
    },
  )
  .refine(
    (c) =>
      !c.nodeReclaimAfterSeconds ||
      c.nodeReclaimAfterSeconds >= (c.nodeNotReadyAfterSeconds ?? defaultNotReady(c.heartbeatSeconds)),
    {
      path: ["nodeReclaimAfterSeconds"],
      message: "must be 0 (never) or at least nodeNotReadyAfterSeconds",
    },
  );

/** Default not-ready grace: 3 minutes, or 6 missed heartbeats when they are rarer than 30 s. */
function defaultNotReady(heartbeatSeconds: number): number {
  return Math.max(180, 6 * heartbeatSeconds);
}

/**
 * The datastore of a file given to the CLI's `--config`: an agent config (its `datastore`
 * section is used), or a file holding only a `datastore:` section (so an operator's workstation
 * needs no node name or pools to reach the cluster's etcd).
 */
export function parseDatastoreFile(text: string, source: string): DatastoreConfig {
  let raw: unknown;
  try {
    raw = parseConfigText(text);
  } catch (e) {
    throw configError(source, `not valid YAML or JSON: ${e instanceof Error ? e.message : e}`);
  }
  if (raw && typeof raw === "object" && ("nodeName" in raw || "underlayInterface" in raw))
    return parseAgentConfig(text, source).datastore;
  const r = z
    .object({ datastore: datastoreSchema })
    .strict()
    .safeParse(raw ?? {});
  if (!r.success) throw configError(source, issuesText(r.error.issues));
  return r.data.datastore as DatastoreConfig;
}

function configError(source: string, msg: string): TartanError {
  return new TartanError(
    "agent-config-invalid",
    `${source}: ${msg}`,
    "see docs/agent.md (the config file at its top) for the fields and their defaults, and docs/security.md for datastore.tls and datastore.auth",
  );
}

const issuesText = (issues: readonly z.ZodIssue[]) =>
  issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");

/** A pool without a name is named after its CIDR: "pool-10-244-0-0-16". */
const poolName = (cidr: string): string => `pool-${cidr.replace(/[.:/]/g, "-").toLowerCase()}`;

/**
 * The config's value: a JSON text (what the lab and generated configs are) by JSON.parse, since
 * the YAML parser's first run in a fresh agent costs ~15 ms of its start; anything else, or JSON
 * that JSON.parse refuses, by the YAML parser, whose errors name the line. One difference: in
 * JSON, a key given twice keeps its last value, where the YAML parser refuses the file.
 */
function parseConfigText(text: string): unknown {
  if (/^\s*\{/.test(text)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {}
  }
  return parseYaml(text);
}

/**
 * Parses the agent config (YAML, which includes JSON). Every problem is one TartanError
 * "agent-config-invalid" naming the field, so an operator fixes the file in one go.
 */
export function parseAgentConfig(
  text: string,
  source = "agent config",
  env: Record<string, string | undefined> = process.env,
): AgentConfig {
  const bad = (msg: string) => configError(source, msg);
  let raw: unknown;
  try {
    raw = parseConfigText(text);
  } catch (e) {
    throw bad(`not valid YAML or JSON: ${e instanceof Error ? e.message : e}`);
  }
  const r = schema.safeParse(raw ?? {});
  if (!r.success) {
    throw bad(issuesText(r.error.issues));
  }
  const c = r.data;
  const nodeName = c.nodeName ?? env.NODE_NAME;
  if (!nodeName) throw bad("nodeName: required (or set the environment variable NODE_NAME)");
  const nodeNameOk = name.safeParse(nodeName);
  if (!nodeNameOk.success) throw bad(`NODE_NAME: ${issuesText(nodeNameOk.error.issues)}`);
  const pools: AgentPool[] = (c.pools ?? DEFAULT_POOLS).map((p, i) => {
    const family = p.cidr.includes(":") ? 6 : 4;
    const spec = {
      cidr: p.cidr,
      blockSize: p.blockSize ?? DEFAULT_BLOCK_SIZE[family],
      // Pods reach the world by default, as with Calico's default pool and Flannel's --ip-masq.
      natOutgoing: ("natOutgoing" in p ? p.natOutgoing : undefined) ?? true,
    };
    try {
      checkPool(spec, `pools[${i}]`);
    } catch (e) {
      throw bad(e instanceof Error ? e.message : String(e));
    }
    return { name: ("name" in p && p.name) || poolName(p.cidr), ...spec };
  });
  const nodeNotReadyAfterSeconds = c.nodeNotReadyAfterSeconds ?? defaultNotReady(c.heartbeatSeconds);
  return {
    ...c,
    nodeName,
    ipam: { mode: c.ipam?.mode ?? "blocks" },
    pools,
    datastore: c.datastore as DatastoreConfig,
    nodeNotReadyAfterSeconds,
    // Default: 15 minutes, or 5 times the not-ready grace when that is longer.
    nodeReclaimAfterSeconds: c.nodeReclaimAfterSeconds ?? Math.max(900, 5 * nodeNotReadyAfterSeconds),
  };
}
