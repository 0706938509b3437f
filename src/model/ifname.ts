import { InvalidValueError } from "./invalid-value.ts";
import { shownValue } from "./shown-value.ts";

/**
 * The interface names tartan accepts (pod ifname, bridge): 1-15 bytes of letters, digits, '_',
 * '.', '-', starting with a letter, digit or '_'. The kernel accepts far more (anything but '/',
 * ':', whitespace, "." and ".."), but names with '%', quotes, '@', control characters or a leading
 * '-' break `ip`, nft and sysctl paths that take them as text, so they are refused here.
 */
export const IFNAME_GRAMMAR = "1-15 characters from [A-Za-z0-9_.-], starting with a letter, digit or '_'";
const IFNAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws an InvalidValueError that names the field, the value and the allowed grammar. */
export function checkIfname(name: string, field: string): string {
  let why: string | undefined;
  if (name.length === 0) why = "is empty";
  else if (Buffer.byteLength(name) > 15)
    why = `is ${Buffer.byteLength(name)} bytes long; Linux allows at most 15`;
  else if (!IFNAME_RE.test(name)) why = "has characters tartan does not accept";
  if (why)
    throw new InvalidValueError(field, `interface name ${shownValue(name, 40)} ${why} (${IFNAME_GRAMMAR})`);
  return name;
}
