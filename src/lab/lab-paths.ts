import { TartanError } from "../errors/tartan-error.ts";

/** Where a lab keeps its state, and the names of the namespaces it owns. */
export interface LabPaths {
  name: string;
  /** /run/tartan-lab/<lab>: state file, etcd data, per-node dirs, logs. tmpfs, gone at reboot. */
  dir: string;
  stateFile: string;
  lockFile: string;
  etcdDir: string;
  etcdLog: string;
  fabricNetns: string;
  /** `lab up --tor`: the client namespace behind the ToR. */
  outsideNetns: string;
  /** `lab up --tor`: the ToR's FRR config, pid files and sockets. */
  torDir: string;
  /** Every namespace of this lab starts with this; pod namespaces with `${prefix}p-`. */
  netnsPrefix: string;
  nodeNetns(index: number): string;
  /** Per-node files (agent config and log, CNI config, IPAM store, agent socket). */
  nodeDir(nodeName: string): string;
}

// No '-' in lab names: namespaces are tl-<lab>-<name>, and a lab "a" must never mistake a
// namespace of a lab "a-p" (tl-a-p-fabric) for one of its pods (tl-a-p-…) when sweeping.
const LAB_NAME_RE = /^[a-z0-9]{1,16}$/;

export function labPaths(name: string, root = process.env.TARTAN_LAB_ROOT || "/run/tartan-lab"): LabPaths {
  if (!LAB_NAME_RE.test(name)) {
    throw new TartanError(
      "lab-name",
      `lab name "${name}" is not valid`,
      "use 1 to 16 lowercase letters and digits (no '-': namespace names are tl-<lab>-<name>)",
    );
  }
  const dir = `${root}/${name}`;
  const netnsPrefix = `tl-${name}-`;
  return {
    name,
    dir,
    stateFile: `${dir}/lab.json`,
    lockFile: `${dir}/lab.lock`,
    etcdDir: `${dir}/etcd`,
    etcdLog: `${dir}/etcd.log`,
    fabricNetns: `${netnsPrefix}fabric`,
    outsideNetns: `${netnsPrefix}outside`,
    torDir: `${dir}/tor`,
    netnsPrefix,
    nodeNetns: (i) => `${netnsPrefix}node-${i}`,
    nodeDir: (node) => `${dir}/${node}`,
  };
}
