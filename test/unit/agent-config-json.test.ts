// The agent config as JSON (what the lab writes) is read by JSON.parse, YAML by the YAML parser:
// the same config either way, and text that is neither is refused with the same words.
import { describe, expect, test } from "bun:test";
import { parseAgentConfig } from "../../src/agent/agent-config.ts";

const config = {
  nodeName: "node-1",
  underlayInterface: "eth0",
  datastore: { type: "etcd", endpoints: ["https://10.0.0.1:2379"] },
  pools: [{ cidr: "10.244.0.0/16", blockSize: 26 }],
  networkPolicy: true,
};
const yaml = `nodeName: node-1
underlayInterface: eth0
datastore:
  type: etcd
  endpoints: ["https://10.0.0.1:2379"]
pools:
  - cidr: 10.244.0.0/16
    blockSize: 26
networkPolicy: true
`;

describe("agent config text", () => {
  test("JSON and the same config in YAML give the same AgentConfig", () => {
    const env = {};
    const fromJson = parseAgentConfig(`\n  ${JSON.stringify(config, null, 2)}\n`, "agent.json", env);
    expect(fromJson).toEqual(parseAgentConfig(yaml, "agent.yaml", env));
    expect(fromJson.nodeName).toBe("node-1");
  });

  test("a JSON-looking text JSON.parse refuses is read as YAML (flow style), or refused as before", () => {
    // Flow-style YAML starting with "{" that is not JSON (unquoted keys): still a valid config.
    const flow =
      "{nodeName: node-1, underlayInterface: eth0, datastore: {type: etcd, endpoints: ['https://10.0.0.1:2379']}}";
    expect(parseAgentConfig(flow, "agent.yaml", {}).nodeName).toBe("node-1");
    expect(() => parseAgentConfig('{"nodeName": "node-1",', "agent.json", {})).toThrow(
      /not valid YAML or JSON/,
    );
    // The schema still judges what JSON.parse read.
    expect(() => parseAgentConfig('{"nodeName": 7}', "agent.json", {})).toThrow(/nodeName/);
  });
});
