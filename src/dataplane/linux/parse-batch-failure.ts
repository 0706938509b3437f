export interface BatchFailure {
  /** 1-based line of the batch that failed, when ip said ("Command failed -:LINE"). */
  line?: number;
  /** The kernel's (or ip's) own words, without "RTNETLINK answers:" / "Error:" prefixes. */
  words: string;
}

/**
 * Reads what `ip -batch -` printed on failure. Kernel refusals end with "Command failed -:N";
 * argument errors make ip exit at once without a line number (for those line stays undefined).
 */
export function parseBatchFailure(stderr: string): BatchFailure {
  let line: number | undefined;
  const words: string[] = [];
  for (const raw of stderr.split("\n")) {
    const t = raw.trim();
    if (t === "") continue;
    const m = /^Command failed -:(\d+)$/.exec(t);
    if (m) {
      line = Number(m[1]);
      continue;
    }
    words.push(t.replace(/^(RTNETLINK answers|Error):\s*/, "").replace(/\.$/, ""));
  }
  const failure: BatchFailure = { words: words.join("; ") || "ip failed without a message" };
  if (line !== undefined) failure.line = line;
  return failure;
}
