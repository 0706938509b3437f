import { readFileSync, writeFileSync } from "node:fs";
import type { LabMatrix } from "./lab-matrix.ts";
import { labPaths } from "./lab-paths.ts";

/** The last `lab matrix` of a lab, with when it ran: what the web view shows. */
export interface LastMatrix {
  time: string;
  matrix: LabMatrix;
}

const file = (lab: string) => `${labPaths(lab).dir}/matrix.json`;

/** Keeps the matrix in the lab's state directory (best effort: a matrix is still printed without). */
export function saveLastMatrix(lab: string, matrix: LabMatrix): LabMatrix {
  try {
    writeFileSync(
      file(lab),
      JSON.stringify({ time: new Date().toISOString(), matrix } satisfies LastMatrix),
      {
        mode: 0o600,
      },
    );
  } catch {}
  return matrix;
}

export function readLastMatrix(lab: string): LastMatrix | undefined {
  try {
    return JSON.parse(readFileSync(file(lab), "utf8")) as LastMatrix;
  } catch {
    return undefined;
  }
}
