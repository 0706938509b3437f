export type StopSignal = "SIGTERM" | "SIGINT";

let first: Promise<StopSignal> | undefined;

/**
 * Resolves with the first SIGTERM or SIGINT this process receives. The handlers stay installed
 * for the life of the process: with `process.once`, the handler's removal restores the default
 * action, so a second SIGTERM arriving after the first was handled killed the process in the
 * middle of its shutdown. The lab signals a process and its group back to back, and in 1 of ~15
 * stops the agent died that way, before its "agent stopping" line and the removal of its socket.
 * A repeated SIGTERM is ignored; a second SIGINT (^C twice at a terminal) exits at once with 130.
 */
export function stopSignal(): Promise<StopSignal> {
  first ??= new Promise<StopSignal>((resolve) => {
    let got: StopSignal | undefined;
    const on = (sig: StopSignal) => () => {
      if (got === undefined) {
        got = sig;
        resolve(sig);
      } else if (sig === "SIGINT") process.exit(130);
    };
    process.on("SIGTERM", on("SIGTERM"));
    process.on("SIGINT", on("SIGINT"));
  });
  return first;
}
