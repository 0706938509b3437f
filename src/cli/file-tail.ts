import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** How much of an agent log `diagnose` keeps. */
export const LOG_LINES = 1000;

/** The last `lines` lines of a file, reading at most its last 512 KiB. */
export function fileTail(path: string, lines = LOG_LINES, maxBytes = 512 << 10): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString("utf8").replace(/\n$/, "").split("\n");
    if (size > len) all.shift(); // a partial first line
    return `${all.slice(-lines).join("\n")}\n`;
  } finally {
    closeSync(fd);
  }
}
