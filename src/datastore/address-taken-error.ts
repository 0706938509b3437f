import { TartanError } from "../errors/tartan-error.ts";

/**
 * What every IpamStore adapter throws when reserve() meets an address that is already held, so
 * callers (and the contract test) can rely on one code whichever adapter is wired in.
 */
export function addressTakenError(network: string, ip: string): TartanError {
  return new TartanError(
    "ipam-ip-in-use",
    `address ${ip} of network "${network}" is already reserved`,
    `another attachment holds it: \`tartan ipam ls --network ${network} --data-dir DIR\` (DIR: the ipam.dataDir) shows ` +
      "which container; release it with CNI DEL, or let CNI GC remove attachments of containers that are gone " +
      "(with an agent: `tartan ipam check` says whether it leaked, `tartan ipam release --ip IP` frees a leak)",
  );
}
