import type { IpamStore, IpamTx } from "../datastore/ipam-store.ts";
import { CniCode, CniError } from "../errors/cni-error.ts";
import type { CniResult } from "../model/cni-result.ts";
import type { CniDeps } from "./cni-deps.ts";
import type { CniCommand, CniEnv } from "./cni-env.ts";
import { DELEGATION_DEPTH_ENV, delegationDepth } from "./delegation-depth.ts";
import type { IpamBackend } from "./ipam-backend.ts";
import { parseResult } from "./shape-result.ts";

/**
 * Runs the IPAM plugin named by `ipam.type` from CNI_PATH, as the spec's delegation section says:
 * same environment except CNI_COMMAND, the complete network config on stdin, and its error (on
 * stdout as CNI error JSON) becomes ours.
 */
export class DelegatedIpam implements IpamBackend {
  constructor(
    private readonly deps: CniDeps,
    private readonly env: CniEnv,
    private readonly type: string,
    private readonly stdin: string,
    private readonly store?: IpamStore,
  ) {}

  private async invoke(command: CniCommand, stdin = this.stdin): Promise<string> {
    const binary = this.deps.findPlugin(this.type, this.env.path);
    if (!binary) {
      throw new CniError(
        CniCode.invalidConfig,
        `IPAM plugin "${this.type}" was not found in CNI_PATH (${this.env.path.join(":") || "empty"})`,
        "",
        `install it there, or use "ipam": {"type": "tartan-ipam", ...}`,
      );
    }
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.deps.env)) if (v !== undefined) childEnv[k] = v;
    childEnv.CNI_COMMAND = command;
    childEnv[DELEGATION_DEPTH_ENV] = String(delegationDepth(this.deps.env) + 1);
    const out = await this.deps.execPlugin(binary, childEnv, stdin);
    if (out.stderr)
      // warn: the level the plugin writes to its stderr, where the spec wants delegates' stderr.
      this.deps.log("warn", "delegate stderr", { plugin: this.type, stderr: out.stderr.trim() });
    if (out.code !== 0) {
      let msg = out.stdout.trim() || out.stderr.trim() || `exit status ${out.code}`;
      let code: number = CniCode.delegate;
      let details = "";
      try {
        const e = JSON.parse(out.stdout) as { code?: number; msg?: string; details?: string };
        if (typeof e.code === "number") code = e.code;
        if (e.msg) msg = e.msg;
        if (e.details) details = e.details;
      } catch {}
      throw new CniError(code, `IPAM plugin ${this.type} failed ${command}: ${msg}`, details);
    }
    return out.stdout;
  }

  async add(record?: (tx: IpamTx, result?: CniResult) => void): Promise<CniResult> {
    if (record && this.store) this.store.transaction(record);
    const stdout = await this.invoke("ADD");
    let raw: unknown;
    try {
      raw = JSON.parse(stdout);
    } catch {
      throw new CniError(
        CniCode.decodeFailure,
        `IPAM plugin ${this.type} printed a result that is not JSON`,
        stdout,
      );
    }
    return parseResult(raw, `result of IPAM plugin ${this.type}`);
  }

  async del(): Promise<void> {
    await this.invoke("DEL");
  }

  async check(): Promise<void> {
    await this.invoke("CHECK");
  }

  async gc(): Promise<void> {
    await this.invoke("GC");
  }

  async status(): Promise<void> {
    await this.invoke("STATUS");
  }
}
