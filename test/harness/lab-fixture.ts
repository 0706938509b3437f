// What a single-lab e2e file needs before its tests: its own copy of dist/tartan, whether the etcd
// binary is there (the lab needs it; without it the file's tests are skipped), and a fresh lab
// name. The lab is taken down after all tests whatever happened to it (`lab down` of a lab that
// is not, or no longer, up succeeds and does nothing), and the copy is removed.
import { afterAll } from "bun:test";
import { rmSync } from "node:fs";
import { run } from "../../src/exec/run.ts";
import { isRoot } from "./netns.ts";
import { privateTartanBin } from "./tartan-binary.ts";

/** The lab commands' option naming the lab. */
const LAB_OPTION = "--lab";

export interface LabFixture {
  /** Path of this file's private tartan binary. */
  tartan: string;
  hasEtcd: boolean;
  /** The lab's name: `labPrefix` and six random characters. */
  name: string;
  /** Runs this file's tartan with `args` (and stdin); its stdout, or a thrown error with its output. */
  tt(args: string[], stdin?: string): Promise<string>;
}

/** Default deny of ingress for every pod of namespace prod (the e2e files' usual first policy). */
export const DENY_INGRESS_PROD = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: prod}
spec: {podSelector: {}, policyTypes: [Ingress]}
`;

export async function labFixture(labPrefix: string, binPrefix: string): Promise<LabFixture> {
  const bin = isRoot ? await privateTartanBin(binPrefix) : "";
  const tartan = `${bin}/tartan`;
  const hasEtcd =
    isRoot && (await run(["etcd", "--version"], { allowFailure: true }).catch(() => null))?.code === 0;
  const name = `${labPrefix}${Math.random().toString(36).slice(2, 8)}`;
  const down = [tartan, "lab", "down", LAB_OPTION, name];
  // Last resort for a run killed before afterAll (bun test itself does not run exit handlers).
  process.on("exit", () => {
    if (hasEtcd) Bun.spawnSync(down);
  });
  afterAll(async () => {
    if (hasEtcd) await run(down, { allowFailure: true, timeoutMs: 120_000 });
    if (bin) rmSync(bin, { recursive: true, force: true });
  });
  const tt = async (args: string[], stdin?: string): Promise<string> => {
    const r = await run([tartan, ...args], { allowFailure: true, timeoutMs: 180_000, stdin });
    if (r.code !== 0) throw new Error(`tartan ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  return { tartan, hasEtcd, name, tt };
}
