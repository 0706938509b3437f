// The one client of the agent's socket API (src/api/agent-client.ts) and what the plugin makes of
// its failures: an agent that cannot be reached during ADD is CNI 11 (try again later), never 999,
// and no JavaScript stack reaches a CNI error's msg or details.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { AgentClient } from "../../src/api/agent-client.ts";
import type { CniDeps } from "../../src/cni/cni-deps.ts";
import { requestBlock } from "../../src/cni/request-block.ts";
import { CNI_CODE_OF, toCniError } from "../../src/cni/to-cni-error.ts";
import { CniCode } from "../../src/errors/cni-error.ts";
import { ERROR_CODES, isErrorCode } from "../../src/errors/error-code.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

const dir = mkdtempSync(`${tmpdir()}/tt-agent-client-`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The error a promise fails with; a promise that succeeds fails the test. */
const failure = (p: Promise<unknown>): Promise<TartanError> =>
  p.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as TartanError,
  );

/** A unix-socket HTTP server answering every request with `answer`. */
function serve(name: string, answer: (req: Request) => Response | Promise<Response>) {
  const socket = `${dir}/${name}.sock`;
  const server = Bun.serve({ unix: socket, fetch: answer });
  return { socket, stop: () => server.stop(true) };
}

describe("AgentClient", () => {
  test("no socket: agent-unreachable naming the socket, with a hint naming a command that exists", async () => {
    const socket = `${dir}/absent.sock`;
    const e = await failure(new AgentClient(socket).claimBlock({ network: "net" }));
    expect(e).toBeInstanceOf(TartanError);
    expect(e.code).toBe("agent-unreachable");
    expect(e.message).toContain(socket);
    expect(e.message).toContain('network "net"');
    expect(e.hint).toContain(`tartan policy status --socket ${socket}`);
    expect(await new AgentClient(socket).healthy()).toBe(false);
  });

  test("a listener that never answers: agent-unreachable after the request's timeout", async () => {
    const s = serve("silent", () => new Promise<Response>(() => {}));
    try {
      const t0 = performance.now();
      const e = await failure(
        new AgentClient(s.socket).request({
          method: "GET",
          path: "/v1/policy",
          timeoutMs: 200,
          doing: "reading the policy",
        }),
      );
      expect(e.code).toBe("agent-unreachable");
      expect(e.message).toContain("no answer within 200 ms");
      expect(performance.now() - t0).toBeLessThan(2000);
    } finally {
      s.stop();
    }
  });

  test("answers: JSON on success; an error keeps the agent's code, an unknown one is agent-error", async () => {
    const s = serve("answers", (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/v1/healthz") return new Response("ok");
      if (path === "/v1/blocks") return Response.json({ blocks: ["10.0.0.0/26"], claimed: "10.0.0.0/26" });
      if (path === "/v1/policy")
        return Response.json({ code: "policy-off", message: "off", hint: "turn it on" }, { status: 404 });
      return Response.json({ code: "from-a-newer-agent", message: "what?" }, { status: 500 });
    });
    try {
      const c = new AgentClient(s.socket);
      expect(await c.healthy()).toBe(true);
      expect(await c.claimBlock({ network: "net", family: 4 })).toEqual({
        blocks: ["10.0.0.0/26"],
        claimed: "10.0.0.0/26",
      });
      expect(await c.get("/v1/policy").catch((x) => x)).toMatchObject({
        code: "policy-off",
        hint: "turn it on",
      });
      const e = await failure(c.get("/v1/other"));
      expect(e.code).toBe("agent-error");
      expect(e.message).toContain("from-a-newer-agent");
    } finally {
      s.stop();
    }
  });
});

describe("error codes and the CNI mapping", () => {
  test("every code is mapped, and isErrorCode knows exactly the union", () => {
    for (const c of ERROR_CODES) expect(typeof CNI_CODE_OF[c]).toBe("number");
    expect(Object.keys(CNI_CODE_OF).sort()).toEqual([...ERROR_CODES].sort());
    expect(isErrorCode("agent-unreachable")).toBe(true);
    expect(isErrorCode("ipam-check")).toBe(false);
  });

  test("the real block request with no agent is CNI 11, not 999", async () => {
    const e = await failure(requestBlock(`${dir}/absent.sock`, { network: "net", family: 4 }));
    expect(toCniError(e).cniCode).toBe(CniCode.tryAgainLater);
  });

  test("ADD with full blocks and an unreachable agent: the runtime gets 11", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("pod1");
    (cni.deps as CniDeps).requestBlock = async (socket) => {
      throw await failure(new AgentClient(socket).claimBlock({ network: "net1" }));
    };
    const conf = tartanConf({ ranges: [] });
    (conf.ipam as Record<string, unknown>).nodeBlocks = true;
    (conf.ipam as Record<string, unknown>).agentSocket = `${dir}/absent.sock`;
    delete (conf.ipam as Record<string, unknown>).ranges;
    const out = await cni.invoke({ command: "ADD", netns }, conf);
    expect(out.exitCode).toBe(1);
    expect(out.json).toMatchObject({ code: 11, msg: expect.stringContaining(`${dir}/absent.sock`) });
  });

  test("STATUS with no block: 0 while the agent can claim one, 50 when it says it cannot (node-podcidr)", async () => {
    const cni = new FakeCni();
    const conf = tartanConf({ ranges: [] });
    const ipam = conf.ipam as Record<string, unknown>;
    ipam.nodeBlocks = true;
    delete ipam.ranges;
    const up = serve("healthy", () =>
      Response.json({ ok: true, network: { available: true, reason: "TartanIsUp", message: "up" } }),
    );
    const old = serve("old-agent", () => new Response("ok\n"));
    const noCidr = serve("no-cidr", () =>
      Response.json({
        ok: true,
        network: { available: false, reason: "PodCIDRNotAssigned", message: "Node n1 has no spec.podCIDRs" },
      }),
    );
    try {
      ipam.agentSocket = up.socket;
      expect((await cni.invoke({ command: "STATUS" }, conf)).exitCode).toBe(0);
      ipam.agentSocket = old.socket;
      expect((await cni.invoke({ command: "STATUS" }, conf)).exitCode).toBe(0);
      ipam.agentSocket = noCidr.socket;
      const out = await cni.invoke({ command: "STATUS" }, conf);
      expect(out.exitCode).toBe(1);
      expect(out.json).toMatchObject({
        code: 50,
        msg: expect.stringContaining("has no IPAM block and cannot get one: Node n1 has no spec.podCIDRs"),
        details: expect.stringContaining("--allocate-node-cidrs"),
      });
    } finally {
      up.stop();
      old.stop();
      noCidr.stop();
    }
  });

  test("an internal error: no stack in msg or details, the stack goes to the log", async () => {
    const cni = new FakeCni();
    const netns = cni.netns("pod1");
    cni.storeFailure = new RangeError("boom from a bug");
    const out = await cni.invoke({ command: "ADD", netns }, tartanConf());
    expect(out.json).toMatchObject({ code: 999, msg: "internal error: boom from a bug" });
    const { details } = out.json as { details: string };
    expect(details).not.toContain("    at ");
    expect(details).toContain("stack trace");
    const logged = cni.logs.find((l) => l.level === "error");
    expect(String(logged?.fields?.stack)).toContain("    at ");
  });
});
