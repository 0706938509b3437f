import { readFileSync } from "node:fs";

/**
 * Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined when the PID
 * does not exist. Stored with every PID the lab records: a PID that was reused by an unrelated
 * process after ours died has another start time, so `lab down` never signals it.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // rest[0] is field 3 (state); field 22 is rest[19]. A zombie has exited: treat it as gone.
  if (rest[0] === "Z") return undefined;
  return rest[19];
}
