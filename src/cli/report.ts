import { stringify } from "yaml";
import type { OutputFormat } from "./common-options.ts";

export type { OutputFormat } from "./common-options.ts";

/** Commands return data; this prints it in the format the user asked for (wide is a table). */
export function report(data: unknown, format: OutputFormat, table: (d: never) => string): string {
  if (format === "json") return `${JSON.stringify(data, null, 2)}\n`;
  if (format === "yaml") return stringify(data);
  return table(data as never);
}

/** Aligned columns, header first. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}
