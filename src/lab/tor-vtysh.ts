import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { LabTor } from "./lab-state.ts";

/** The argv of `vtysh` talking to the lab ToR's daemons only (their vty sockets, its own vtysh.conf). */
export function torVtyshArgv(tor: LabTor, commands: string[]): string[] {
  return ["vtysh", "--config_dir", tor.dir, "--vty_socket", tor.dir, ...commands.flatMap((c) => ["-c", c])];
}

/**
 * Runs one vtysh command against the lab's ToR and parses its JSON answer (`show … json`).
 * The vty sockets are files, so no namespace needs entering.
 */
export async function torVtyshJson<T>(tor: LabTor, command: string, timeoutMs = 5000): Promise<T> {
  const r = await run(torVtyshArgv(tor, [command]), { allowFailure: true, timeoutMs });
  if (r.code !== 0) {
    throw new TartanError(
      "lab-tor-vtysh",
      `vtysh "${command}" on the lab's ToR failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`,
      `are its daemons up? (tartan lab ls); logs in ${tor.dir}`,
    );
  }
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new TartanError(
      "lab-tor-vtysh",
      `vtysh "${command}" on the lab's ToR did not answer JSON: ${r.stdout.slice(0, 200)}`,
      `logs in ${tor.dir}`,
    );
  }
}

/** `show bgp summary json` → per family, per peer: state and prefixes received/sent. */
export interface TorSummary {
  ipv4Unicast?: {
    peers?: Record<string, { remoteAs: number; state: string; pfxRcd?: number; pfxSnt?: number }>;
  };
  ipv6Unicast?: {
    peers?: Record<string, { remoteAs: number; state: string; pfxRcd?: number; pfxSnt?: number }>;
  };
}

/** `show bgp ipv4|ipv6 unicast json` → the prefixes the ToR holds, with their paths. */
export interface TorRoutes {
  routes: Record<
    string,
    { valid?: boolean; bestpath?: boolean; path?: string; peerId?: string; nexthops?: { ip: string }[] }[]
  >;
}
