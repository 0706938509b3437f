// The real kubectl binaries the stand-in API server is proven with: Debian's kubectl 1.20
// (kubernetes-client, unpacked into .tools/ by scripts/ensure-kubectl.sh) and the machine's
// /usr/bin/kubectl when there is one (here: the Google Cloud CLI dispatcher, which runs its 1.30
// client against a server that says 1.30). Each one absent is a skip with its reason.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "../../src/exec/run.ts";

export interface KubectlBinary {
  name: string;
  path: string;
  /** Why tests with this kubectl are skipped, or undefined. */
  skipReason?: string;
}

export const KUBECTL_1_20 = resolve(import.meta.dir, "../../.tools/kubectl-1.20/usr/bin/kubectl");

export const KUBECTLS: KubectlBinary[] = [
  {
    name: "kubectl 1.20 (Debian kubernetes-client)",
    path: KUBECTL_1_20,
    ...(existsSync(KUBECTL_1_20)
      ? {}
      : { skipReason: `${KUBECTL_1_20} is missing: run bash scripts/ensure-kubectl.sh` }),
  },
  {
    name: "kubectl of /usr/bin (newer)",
    path: "/usr/bin/kubectl",
    ...(existsSync("/usr/bin/kubectl")
      ? {}
      : { skipReason: "/usr/bin/kubectl is not installed on this machine" }),
  },
];

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A kubectl bound to one kubeconfig and a fresh discovery cache (kubectl caches discovery on disk). */
export function kubectlFor(bin: KubectlBinary, kubeconfig: string) {
  const cacheDir = mkdtempSync(join(tmpdir(), "tt-t-kubectl-cache-"));
  const argv = (args: string[]) => [bin.path, "--kubeconfig", kubeconfig, "--cache-dir", cacheDir, ...args];
  return {
    cacheDir,
    argv,
    /** Runs kubectl (async: the API server may live in this very process). */
    async run(args: string[], stdin?: string): Promise<KubectlResult> {
      return await run(argv(args), {
        allowFailure: true,
        timeoutMs: 60_000,
        ...(stdin !== undefined ? { stdin } : {}),
      });
    },
    /** Runs kubectl and fails the test, with its stderr, when it exits non-zero. */
    async ok(args: string[], stdin?: string): Promise<string> {
      const r = await run(argv(args), {
        allowFailure: true,
        timeoutMs: 60_000,
        ...(stdin !== undefined ? { stdin } : {}),
      });
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
