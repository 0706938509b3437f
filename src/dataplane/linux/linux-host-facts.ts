import { existsSync, readFileSync, readlinkSync, statSync } from "node:fs";
import type { HostFacts } from "../host-facts.ts";

/** HostFacts from /sys/class/net, /proc/net/route and /proc/self/ns/net. */
export class LinuxHostFacts implements HostFacts {
  linkExists(name: string): boolean {
    return existsSync(`/sys/class/net/${name}`);
  }

  isBridge(name: string): boolean {
    // Only bridges have the bridge/ attribute directory.
    return existsSync(`/sys/class/net/${name}/bridge`);
  }

  isOwnNetns(path: string): boolean {
    try {
      const own = statSync("/proc/self/ns/net");
      const target = statSync(path);
      return own.dev === target.dev && own.ino === target.ino;
    } catch {
      return false;
    }
  }

  defaultRouteMtu(): number | undefined {
    let table: string;
    try {
      table = readFileSync("/proc/net/route", "utf8");
    } catch {
      return undefined;
    }
    // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...; default = dest and mask 0.
    for (const line of table.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 7 && cols[1] === "00000000" && cols[7] === "00000000") {
        try {
          return Number(readFileSync(`/sys/class/net/${cols[0]}/mtu`, "utf8").trim()) || undefined;
        } catch {
          return undefined;
        }
      }
    }
    return undefined;
  }

  private key: string | undefined;

  /** Read once per process: ADD asks twice (before and after recording, see cni/masquerade.ts). */
  setupKey(): string {
    this.key ??= this.readSetupKey();
    return this.key;
  }

  private readSetupKey(): string {
    let boot = "";
    try {
      boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {}
    let ns = "";
    try {
      ns = readlinkSync("/proc/self/ns/net");
    } catch {}
    return `${boot}/${ns}`;
  }

  pathExists(path: string): boolean {
    return existsSync(path);
  }
}
