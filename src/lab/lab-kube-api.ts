import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import type { LabState } from "./lab-state.ts";

export interface LabKubeAnswer {
  status: number;
  // The API's JSON: an object, a list or a Status.
  body: { metadata?: { labels?: Record<string, string> }; message?: string } & Record<string, unknown>;
}

/**
 * One request to the lab's API server, made from inside the fabric namespace where it listens
 * (`tartan lab kube-request`, the lab's kubeconfig). Statuses in `ok` are answers; any other
 * is a TartanError with the server's message.
 */
export async function labKubeApi(
  state: LabState,
  method: string,
  path: string,
  body?: unknown,
  opts: { contentType?: string; ok?: number[] } = {},
): Promise<LabKubeAnswer> {
  if (!state.kubeApi) {
    throw new TartanError(
      "lab-no-datastore",
      `lab "${state.name}" has no API server`,
      "it runs with --datastore kubernetes only",
    );
  }
  const r = await run(
    [
      ...["ip", "netns", "exec", state.fabric.netns, state.tartan, "lab", "kube-request", method, path],
      ...["--kubeconfig", state.kubeApi.kubeconfig],
      ...(opts.contentType ? ["--content-type", opts.contentType] : []),
    ],
    { stdin: body === undefined ? "" : JSON.stringify(body), allowFailure: true, timeoutMs: 30_000 },
  );
  let answer: LabKubeAnswer | undefined;
  try {
    answer = JSON.parse(r.stdout) as LabKubeAnswer;
  } catch {}
  if (r.code !== 0 || !answer) {
    throw new TartanError(
      "lab-kube-api-failed",
      `${method} ${path} on lab "${state.name}"'s API server failed: ${r.stderr.trim() || r.stdout.trim()}`,
      `is it running? (tartan lab ls --lab ${state.name}; log ${state.dir}/kube-apiserver.log)`,
    );
  }
  const ok = opts.ok ?? [200, 201];
  if (!ok.includes(answer.status)) {
    throw new TartanError(
      "lab-kube-api-failed",
      `${method} ${path} on lab "${state.name}"'s API server: ${answer.status} ${answer.body?.message ?? ""}`.trim(),
      `see ${state.dir}/kube-apiserver.log`,
    );
  }
  return answer;
}
