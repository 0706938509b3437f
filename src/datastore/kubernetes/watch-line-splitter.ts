/**
 * Splits a watch stream (newline-delimited JSON, sent in chunks that cut lines anywhere, even
 * inside a UTF-8 sequence) into whole lines. A chunk may hold several lines, part of one, or only
 * the end of one; `push` returns the lines it completed, `end` whatever was left unterminated.
 */
export class WatchLineSplitter {
  private readonly decoder = new TextDecoder();
  private rest = "";

  push(chunk: Uint8Array): string[] {
    const text = this.rest + this.decoder.decode(chunk, { stream: true });
    const parts = text.split("\n");
    this.rest = parts.pop() ?? "";
    return parts.filter((l) => l.trim() !== "");
  }

  /** The last line when the stream ended without a newline (a server cut mid-line leaves junk: the caller parses and judges). */
  end(): string[] {
    const last = (this.rest + this.decoder.decode()).trim();
    this.rest = "";
    return last === "" ? [] : [last];
  }
}
