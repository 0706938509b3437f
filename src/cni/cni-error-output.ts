import type { CniDeps } from "./cni-deps.ts";
import { internalStack, toCniError } from "./to-cni-error.ts";

/** What the process prints on stdout and its exit status. */
export interface CniOutcome {
  stdout: string;
  exitCode: number;
}

const MAX_MSG = 400;
const MAX_DETAILS = 2000;
/** Lines of a JavaScript (or Go) stack trace: "    at f (file.ts:12:3)", "file.ts:12", "goroutine". */
const STACK_LINE = /^\s+at\s|\.[cm]?[jt]s:\d+|^goroutine\s|^\s*panic:/;

/** The first line of a message, cut to `max` characters: msg is shown to users one line at a time. */
export function oneLine(s: string, max = MAX_MSG): string {
  const first = s.trim().split(/\r?\n/)[0] ?? "";
  return first.length > max ? `${first.slice(0, max)}…` : first;
}

/** details without stack frames (they go to the log), cut to a sane size. */
function scrub(details: string): { text: string; dropped: boolean } {
  const lines = details.split(/\r?\n/);
  const kept = lines.filter((l) => !STACK_LINE.test(l));
  const text = kept.join("\n").trim();
  return {
    text: text.length > MAX_DETAILS ? `${text.slice(0, MAX_DETAILS)}…` : text,
    dropped: kept.length !== lines.length,
  };
}

/**
 * Any error as the spec's error JSON on stdout, exit status 1: an integer code, a one-line msg,
 * details without a stack trace. Stacks (of our bugs, or found in a delegate's output) are
 * logged to stderr / the log file, which is where a developer looks.
 */
export function cniErrorOutput(
  deps: CniDeps,
  e: unknown,
  version: string,
  fields: Record<string, unknown>,
): CniOutcome {
  const err = toCniError(e);
  const stack = internalStack(err);
  const msg = oneLine(err.message);
  const { text: details, dropped } = scrub([err.hint, err.details].filter(Boolean).join("; "));
  try {
    deps.log("error", err.message, {
      code: err.cniCode,
      ...fields,
      ...(stack ? { stack } : {}),
      ...(dropped || msg !== err.message.trim() ? { fullDetails: err.details } : {}),
    });
  } catch {
    // A log that cannot be written must not cost the runtime its error JSON.
  }
  return {
    stdout: JSON.stringify({ cniVersion: version, code: err.cniCode, msg, details }),
    exitCode: 1,
  };
}
