import { parseAllDocuments, parseDocument } from "yaml";
import manifest from "../../deploy/tartan.yaml" with { type: "text" };
import { TartanError } from "../errors/tartan-error.ts";
import { checkPool } from "../ipam/check-pool.ts";
import { DEFAULT_BLOCK_SIZE } from "../model/cluster-resources.ts";
import { InvalidValueError } from "../model/invalid-value.ts";
import type { RoutingBackendName } from "../model/routing-backend.ts";
import { parseUnderlaySelector, UNDERLAY_SELECTOR_FORMS } from "../model/underlay-selector.ts";

/** deploy/tartan.yaml as built into this executable: `tartan manifest` with no options prints it. */
export const INSTALL_MANIFEST: string = manifest;

export interface ManifestSettings {
  /** Pod address pools (one per family at most is usual): "10.244.0.0/16", "fd00:10:244::/56". */
  poolCidrs?: readonly string[];
  backend?: RoutingBackendName;
  /** The pods' MTU; 0 = the underlay's less the backend's overhead. */
  mtu?: number;
  underlayInterface?: string;
  /** The tartan image of the DaemonSet (both containers). */
  image?: string;
}

const usage = (msg: string, hint: string) => new TartanError("cli-usage", msg, hint);

/** The ConfigMap's `agent.yaml` block as it stands in the text: its first line and its indent. */
const AGENT_YAML_KEY = /^( +)agent\.yaml: \|\n/m;
const IMAGE_LINE = /^( +image: )(\S+)$/gm;

/**
 * The install manifest with the given settings: the ConfigMap's agent config (backend, pools,
 * MTU of the conflist, underlay interface) and the DaemonSet's image. Edits the text in place,
 * keeping every comment and the layout of the rest byte for byte (a reviewer diffs the output
 * against deploy/tartan.yaml), then parses the result to prove it is still the manifest.
 */
export function renderManifest(s: ManifestSettings, text: string = INSTALL_MANIFEST): string {
  let out = text;
  const key = AGENT_YAML_KEY.exec(out);
  if (!key) throw new Error("deploy/tartan.yaml has no ConfigMap key `agent.yaml: |`");
  const indent = `${key[1]}  `;
  const start = key.index + key[0].length;
  let end = start;
  // The block scalar runs while lines are indented deeper than its key (or are empty).
  for (const line of out.slice(start).split("\n")) {
    if (line !== "" && !line.startsWith(indent)) break;
    end += line.length + 1;
  }
  const block = out.slice(start, end).replace(/\n+$/, "\n");
  const agent = parseDocument(
    block
      .split("\n")
      .map((l) => l.slice(indent.length))
      .join("\n"),
  );
  if (s.backend !== undefined) agent.set("backend", s.backend);
  if (s.underlayInterface !== undefined) {
    try {
      parseUnderlaySelector(s.underlayInterface, "--underlay-interface");
    } catch (e) {
      throw usage(
        e instanceof InvalidValueError ? e.message : String(e),
        `give ${UNDERLAY_SELECTOR_FORMS}, e.g. eth0 or cidr=192.168.0.0/16`,
      );
    }
    agent.set("underlayInterface", s.underlayInterface);
  }
  if (s.mtu !== undefined) {
    if (!Number.isInteger(s.mtu) || (s.mtu !== 0 && (s.mtu < 576 || s.mtu > 65535)))
      throw usage(`--mtu ${s.mtu}: must be 0 (auto) or 576..65535`, "give the pods' MTU, or 0 for auto");
    agent.setIn(["cniConfig", "mtu"], s.mtu);
  }
  if (s.poolCidrs?.length) {
    // Blocks of the family's default size (64 addresses); other sizes: IPPool objects.
    const pools = s.poolCidrs.map((cidr, i) => {
      const pool = { cidr, blockSize: DEFAULT_BLOCK_SIZE[cidr.includes(":") ? 6 : 4] };
      try {
        checkPool(pool, `--pool-cidr[${i}]`);
      } catch (e) {
        throw usage(e instanceof Error ? e.message : String(e), "give a CIDR such as 10.244.0.0/16");
      }
      return pool;
    });
    agent.set("pools", agent.createNode(pools));
  }
  const agentText = agent.toString({ lineWidth: 0, flowCollectionPadding: false });
  const indented = agentText
    .replace(/\n$/, "")
    .split("\n")
    .map((l) => (l === "" ? "" : indent + l))
    .join("\n");
  out = `${out.slice(0, start)}${indented}\n${out.slice(start + block.length)}`;
  if (s.image !== undefined) {
    if (!/^[a-z0-9][^\s"']*$/.test(s.image))
      throw usage(`--image ${s.image}: not an image reference`, "give e.g. registry.example/tartan:0.1.0");
    const image = s.image;
    out = out.replace(IMAGE_LINE, (_, prefix: string) => `${prefix}${image}`);
  }
  const docs = parseAllDocuments(out);
  const bad = docs.flatMap((d) => d.errors);
  if (bad.length > 0) throw new Error(`rendered manifest does not parse: ${bad[0]!.message}`);
  return out;
}
