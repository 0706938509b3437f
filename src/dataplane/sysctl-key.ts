import { TartanError } from "../errors/tartan-error.ts";

/**
 * Canonical sysctl key: slash separated, relative to /proc/sys ("net/ipv4/ip_forward"). A dotted
 * key is accepted only when it has no slash, because interface names may contain dots
 * ("net/ipv4/conf/tartan.vxlan/forwarding" must be written with slashes).
 */
export function sysctlKey(key: string): string {
  const slashed = key.includes("/") ? key : key.replaceAll(".", "/");
  if (
    !/^[A-Za-z0-9_][A-Za-z0-9_.@:/-]*$/.test(slashed) ||
    slashed.split("/").some((p) => p === "" || p === "..")
  ) {
    throw new TartanError(
      "invalid-sysctl-key",
      `"${key}" is not a sysctl key`,
      'write it like "net/ipv4/ip_forward"',
    );
  }
  return slashed;
}
