import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { TartanError } from "../errors/tartan-error.ts";
import { run } from "../exec/run.ts";
import { labAgentConfig } from "./lab-agent-config.ts";
import type { LabNode } from "./lab-state.ts";
import { nodeNetConf } from "./node-netconf.ts";
import { requireLabState } from "./require-lab-state.ts";
import { startAgent } from "./start-agent.ts";
import { stopLabProcess } from "./stop-lab-process.ts";
import { planUnderlay, staticNeighbourLines } from "./underlay-plan.ts";
import { updateLabState } from "./update-lab-state.ts";

/**
 * `tartan lab node add`: one more node joining a running lab, wired as `lab up` wires its nodes
 * (the next index: namespace, underlay veth on its subnet's bridge, CNI config, agent), so a
 * join can be watched from the other nodes. The node is recorded before anything is created;
 * a failure removes what was made.
 */
export async function nodeAdd(lab: string): Promise<LabNode> {
  const { paths, state } = requireLabState(lab);
  if (!state.etcd) throw new TartanError("lab-no-etcd", `lab "${lab}" has no etcd recorded`);
  const index = Math.max(0, ...state.nodes.map((n) => n.index)) + 1;
  const withAgent = state.nodes.some((n) => n.agentConfigFile !== undefined);
  const ipv6Underlay = Boolean(state.fabric.bridges[0]?.cidr6);
  const planned = planUnderlay(paths.nodeNetns, index, state.subnets, ipv6Underlay).nodes[index - 1]!;
  const dir = paths.nodeDir(planned.name);
  const node: LabNode = {
    name: planned.name,
    index,
    netns: planned.netns,
    underlayAddress: planned.address,
    underlaySubnet: planned.subnet,
    ...(planned.address6 ? { underlayAddress6: planned.address6 } : {}),
    gateway: planned.gateway,
    bridge: planned.bridge,
    fabricPort: planned.fabricPort,
    dir,
    netconfFile: `${dir}/cni.json`,
    ...(withAgent ? { agentConfigFile: `${dir}/agent.json` } : {}),
  };
  await updateLabState(paths, (s) => {
    if (s!.nodes.some((n) => n.name === node.name) || existsSync(`/run/netns/${node.netns}`)) {
      throw new TartanError("lab-node-exists", `node ${node.name} (${node.netns}) already exists`);
    }
    return { ...s!, nodes: [...s!.nodes, node] };
  });
  let agent: LabNode["agent"];
  try {
    await run(["ip", "netns", "add", node.netns]);
    await run(["ip", "-n", state.fabric.netns, "-batch", "-"], {
      stdin: `${planned.fabricLines.join("\n")}\n`,
    });
    await run(["ip", "-n", node.netns, "-batch", "-"], { stdin: `${planned.nodeLines.join("\n")}\n` });
    // The nodes already there learn the new one statically, as lab up does (underlay-plan.ts).
    const known = staticNeighbourLines(planned, "eth0");
    await Promise.all(
      state.nodes
        .filter((n) => n.bridge === planned.bridge && existsSync(`/run/netns/${n.netns}`))
        .map((n) => run(["ip", "-n", n.netns, "-batch", "-"], { stdin: `${known.join("\n")}\n` })),
    );
    await run(["ip", "netns", "exec", node.netns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    if (ipv6Underlay)
      await run(["ip", "netns", "exec", node.netns, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const netconf = nodeNetConf({
      network: state.network,
      backend: state.backend,
      nodeIndex: index,
      nodeDir: dir,
      withAgent,
    });
    writeFileSync(node.netconfFile, `${JSON.stringify(netconf, null, 2)}\n`);
    if (node.agentConfigFile) {
      const config = labAgentConfig({
        nodeName: node.name,
        nodeDir: dir,
        etcdEndpoint: state.etcd.endpoint,
        ...(state.etcd.tls ? { etcdTls: state.etcd.tls } : {}),
        backend: state.backend,
        network: state.network,
        podCidr: state.podCidr,
        ...(state.podCidr6 ? { podCidr6: state.podCidr6 } : {}),
        ...(state.agentTuning ? { tuning: state.agentTuning } : {}),
        ...(state.kubeApi ? { kubeconfig: state.kubeApi.kubeconfig } : {}),
        ...(state.blockSize ? { blockSize: state.blockSize } : {}),
      });
      writeFileSync(node.agentConfigFile, `${JSON.stringify(config, null, 2)}\n`);
      await startAgent(state.tartan, node, async (p) => {
        agent = p;
        await updateLabState(paths, (s) => ({
          ...s!,
          nodes: s!.nodes.map((x) => (x.name === node.name ? { ...x, agent: p } : x)),
        }));
      });
    }
  } catch (e) {
    if (agent) await stopLabProcess(agent);
    await run(["ip", "netns", "del", node.netns], { allowFailure: true });
    rmSync(dir, { recursive: true, force: true });
    await updateLabState(paths, (s) => ({ ...s!, nodes: s!.nodes.filter((n) => n.name !== node.name) }));
    throw e;
  }
  return (await updateLabState(paths, (s) => s!)).nodes.find((n) => n.name === node.name)!;
}
