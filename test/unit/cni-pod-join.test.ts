// The fail-closed ADD (decision 0009): in agent mode the plugin reports a Kubernetes pod's IPs to
// the agent and returns only once the agent confirmed its policy rules; a missing confirmation
// fails the ADD (code 11) and rolls everything back. DEL reports the pod gone, best effort.
import { describe, expect, test } from "bun:test";
import type { CniDeps } from "../../src/cni/cni-deps.ts";
import { hostVethName } from "../../src/cni/host-veth-name.ts";
import { joinPod } from "../../src/cni/join-pod.ts";
import { CniCode, CniError } from "../../src/errors/cni-error.ts";
import type { PodJoinRequest } from "../../src/model/agent-api.ts";
import { FakeCni, tartanConf } from "../harness/fake-cni-deps.ts";

const K8S = "IgnoreUnknown=1;K8S_POD_NAMESPACE=prod;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=ctr1";

function setup(agentSocket: string | null = "/run/tt-agent.sock") {
  const cni = new FakeCni();
  const netns = cni.netns("pod1");
  const calls: { socket: string; req: PodJoinRequest; leave: boolean }[] = [];
  let failure: Error | undefined;
  (cni.deps as CniDeps).joinPod = async (socket, req, leave = false) => {
    calls.push({ socket, req, leave });
    if (failure && !leave) throw failure;
    return { ingress: true, egress: false, policies: ["deny"] };
  };
  const conf = tartanConf({ mode: "routed", v4: "10.88.0.0/24", v6: "fd88::/120" });
  if (agentSocket) (conf.ipam as Record<string, unknown>).agentSocket = agentSocket;
  return { cni, netns, conf, calls, fail: (e: Error) => (failure = e) };
}

describe("CNI ADD/DEL tell the agent (agent mode)", () => {
  test("ADD reports namespace, name, container and bare IPs before answering", async () => {
    const { cni, netns, conf, calls } = setup();
    const out = await cni.invoke({ command: "ADD", netns, cniArgs: K8S }, conf);
    expect(out.exitCode).toBe(0);
    expect(calls).toEqual([
      {
        socket: "/run/tt-agent.sock",
        leave: false,
        req: { namespace: "prod", name: "web", containerId: "ctr1", ips: ["10.88.0.2", "fd88::2"] },
      },
    ]);
  });

  test("no confirmation: the ADD fails with code 11 and leaves nothing (veth, addresses, record)", async () => {
    const { cni, netns, conf, calls, fail } = setup();
    fail(
      new CniError(
        CniCode.tryAgainLater,
        "the tartan agent did not confirm the network policy of pod prod/web: no answer within 5000 ms",
      ),
    );
    const out = await cni.invoke({ command: "ADD", netns, cniArgs: K8S }, conf);
    expect(out.exitCode).not.toBe(0);
    expect(out.json).toMatchObject({
      code: 11,
      msg: expect.stringContaining("did not confirm the network policy"),
    });
    expect(cni.deps.host.linkExists(hostVethName("net1", "ctr1", "eth0"))).toBe(false);
    expect(cni.store("/fake/ipam").transaction((tx) => tx.allocationsOf("net1", "ctr1", "eth0"))).toEqual([]);
    expect(cni.store("/fake/ipam").transaction((tx) => tx.attachments("net1"))).toEqual([]);
    expect(calls.map((c) => c.leave)).toEqual([false, true]); // the agent is told the IPs are gone
  });

  test("not a Kubernetes pod (no K8S_POD_*), or no agent socket: the agent is not asked", async () => {
    const a = setup();
    expect((await a.cni.invoke({ command: "ADD", netns: a.netns }, a.conf)).exitCode).toBe(0);
    expect(a.calls).toEqual([]);
    const b = setup(null);
    expect((await b.cni.invoke({ command: "ADD", netns: b.netns, cniArgs: K8S }, b.conf)).exitCode).toBe(0);
    expect(b.calls).toEqual([]);
  });

  test("DEL tells the agent, and succeeds even when the agent is away", async () => {
    const { cni, netns, conf, calls } = setup();
    await cni.invoke({ command: "ADD", netns, cniArgs: K8S }, conf);
    (cni.deps as CniDeps).joinPod = async (socket, req, leave = false) => {
      calls.push({ socket, req, leave });
      throw new Error("connection refused");
    };
    const out = await cni.invoke({ command: "DEL", netns, cniArgs: K8S }, conf);
    expect(out.exitCode).toBe(0);
    expect(calls.at(-1)).toEqual({
      socket: "/run/tt-agent.sock",
      leave: true,
      req: { namespace: "prod", name: "web", containerId: "ctr1", ips: [] },
    });
  });

  test("the real client: no agent at the socket is a clear code-11 error naming the pod", async () => {
    const e = await joinPod("/nonexistent/tt-agent.sock", {
      namespace: "prod",
      name: "web",
      containerId: "c",
      ips: ["10.0.0.1"],
    }).catch((x) => x);
    expect(e).toBeInstanceOf(CniError);
    expect((e as CniError).cniCode).toBe(11);
    expect((e as CniError).message).toContain("pod prod/web");
  });
});
