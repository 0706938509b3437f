import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { basename, dirname } from "node:path";
import { podMtu } from "../calc/pod-mtu.ts";
import type { AgentCniConfig, AgentConfig } from "./agent-config.ts";
import type { Underlay } from "./kernel-port.ts";

/**
 * The conflist the agent writes for the runtime (Kubernetes mode): one tartan plugin in routed
 * mode, addresses from this node's blocks through the agent's socket. The socket and the IPAM
 * directory are host paths the DaemonSet mounts at the same place in the agent's container.
 */
export function cniConfList(config: AgentConfig, cni: AgentCniConfig, underlay: Underlay): string {
  const family = underlay.address.includes(":") ? 6 : 4;
  const conf = {
    cniVersion: "1.1.0",
    name: config.network,
    plugins: [
      {
        type: "tartan",
        mode: "routed",
        mtu: cni.mtu || podMtu(underlay.mtu, config.backend, family),
        ipam: {
          type: "tartan-ipam",
          nodeBlocks: true,
          agentSocket: config.socket,
          dataDir: config.ipamDataDir,
        },
      },
    ],
  };
  return `${JSON.stringify(conf, null, 2)}\n`;
}

/**
 * Keeps the agent's conflist on disk while the agent is ready. Written only after the first sync
 * (until then the runtime reports the node NetworkNotReady instead of starting pods an agent
 * cannot serve: flannel-io/flannel#2253), through a temp name the runtime ignores (no .conf,
 * .conflist or .json ending), fsync and rename: the runtime never reads half a file. `ensure`
 * rewrites it when it went missing or was changed by someone else (flannel-io/flannel#1721).
 */
export class CniConfigFile {
  constructor(
    private readonly path: string,
    private readonly text: string,
  ) {}

  /** Writes the file unless it already holds exactly this text; true when it wrote. */
  ensure(): boolean {
    try {
      if (readFileSync(this.path, "utf8") === this.text) return false;
    } catch {}
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const tmp = `${dir}/.${basename(this.path)}.tmp`;
    try {
      const fd = openSync(tmp, "w", 0o644);
      try {
        writeSync(fd, this.text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
    return true;
  }

  remove(): void {
    rmSync(this.path, { force: true });
  }
}
