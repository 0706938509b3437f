import { InvalidValueError } from "./invalid-value.ts";

/**
 * Linux interface names: 1-15 bytes, no '/', ':' or whitespace, not "." or "..". Throws an
 * InvalidValueError that names the field and the value.
 */
export function checkIfname(name: string, field: string): string {
  let why: string | undefined;
  if (name.length === 0) why = "is empty";
  else if (Buffer.byteLength(name) > 15)
    why = `is ${Buffer.byteLength(name)} bytes long; Linux allows at most 15`;
  else if (name === "." || name === "..") why = 'may not be "." or ".."';
  else if (/[/:\s]/.test(name)) why = "may not contain '/', ':' or whitespace";
  if (why) throw new InvalidValueError(field, `interface name "${name}" ${why}`);
  return name;
}
