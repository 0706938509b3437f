// The two plugins under comparison, configured as equivalently as their options allow: a bridge
// with the gateway address on it, masquerade of pod traffic on or off on both sides alike (with it
// on the reference spawns iptables several times per ADD and DEL, tartan writes one nft chain per
// network), cniVersion 1.0.0, each with its own bridge, subnet and a private IPAM directory (so
// neither touches the machine's /var/lib/cni).
import type { JsonObject } from "../../test/harness/cni-invoke.ts";

export const REFERENCE_CNI_DIR = "/usr/lib/cni";

export interface Side {
  /** "tartan" or "reference" (the column names of the report). */
  label: string;
  binary: string;
  cniPath: string;
  config: JsonObject;
}

export function referenceSide(
  label: string,
  dataDir: string,
  bridge: string,
  subnet: string,
  ipMasq: boolean,
  /** Makes the network name unique per measured configuration. */
  suffix = "",
): Side {
  return {
    label,
    binary: `${REFERENCE_CNI_DIR}/bridge`,
    cniPath: REFERENCE_CNI_DIR,
    config: {
      cniVersion: "1.0.0",
      name: `ttbench-${label}${suffix}`,
      type: "bridge",
      bridge,
      isGateway: true,
      // tartan's bridge mode puts its ports in hairpin mode by default: the same on both sides.
      hairpinMode: true,
      ipMasq,
      ipam: { type: "host-local", ranges: [[{ subnet }]], dataDir },
    },
  };
}

export function tartanSide(binary: string, dataDir: string, ipMasq: boolean, suffix = ""): Side {
  const dir = binary.slice(0, binary.lastIndexOf("/")) || ".";
  return {
    label: "tartan",
    binary,
    // tartan-ipam (a symlink beside the plugin) is found through CNI_PATH like any IPAM plugin.
    cniPath: dir,
    config: {
      cniVersion: "1.0.0",
      name: `ttbench-tartan${suffix}`,
      type: "tartan",
      mode: "bridge",
      bridge: "tartanbench0",
      ipMasq,
      ipam: { type: "tartan-ipam", ranges: [[{ subnet: "10.78.0.0/16" }]], dataDir },
    },
  };
}
