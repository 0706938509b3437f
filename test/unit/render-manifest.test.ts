// `tartan manifest`: deploy/tartan.yaml with the cluster's pool, backend, MTU, interface and
// image, every other byte unchanged; bad values refused before anything is printed.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { INSTALL_MANIFEST, renderManifest } from "../../src/cli/render-manifest.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const FILE = readFileSync(join(import.meta.dir, "../../deploy/tartan.yaml"), "utf8");
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML walked by path
const docs = (text: string): any[] => parseAllDocuments(text).map((d) => d.toJS());
const agentOf = (text: string) =>
  parseYaml(docs(text).find((o) => o.kind === "ConfigMap").data["agent.yaml"]);
const imagesOf = (text: string) => {
  const pod = docs(text).find((o) => o.kind === "DaemonSet").spec.template.spec;
  return [...pod.initContainers, ...pod.containers].map((c: { image: string }) => c.image);
};

describe("renderManifest", () => {
  test("without settings: deploy/tartan.yaml byte for byte (the one built into the executable)", () => {
    expect(INSTALL_MANIFEST).toBe(FILE);
    expect(renderManifest({})).toBe(FILE);
  });

  test("pool, block size, backend, MTU, interface and image land where the agent and kubelet read them", () => {
    const out = renderManifest({
      poolCidrs: ["10.50.0.0/16", "fd00:10:244::/56"],
      backend: "host-gw",
      mtu: 1400,
      underlayInterface: "ens3",
      image: "registry.example/tartan:0.1.0",
    });
    const a = agentOf(out);
    expect(a.backend).toBe("host-gw");
    expect(a.underlayInterface).toBe("ens3");
    expect(a.pools).toEqual([
      { cidr: "10.50.0.0/16", blockSize: 26 },
      { cidr: "fd00:10:244::/56", blockSize: 122 },
    ]);
    expect(a.cniConfig.mtu).toBe(1400);
    expect(imagesOf(out)).toEqual(["registry.example/tartan:0.1.0", "registry.example/tartan:0.1.0"]);
    // Everything else is the file's: same objects once the changed fields are put back.
    const back = docs(out);
    const orig = docs(FILE);
    back.find((o) => o.kind === "ConfigMap").data = orig.find((o) => o.kind === "ConfigMap").data;
    const pod = back.find((o) => o.kind === "DaemonSet").spec.template.spec;
    for (const c of [...pod.initContainers, ...pod.containers]) c.image = "localhost/tartan:0.1.0";
    expect(back).toEqual(orig);
    // Comments survive (they explain the file to whoever reads the output).
    expect(out).toContain("# The agent's config (docs/agent.md)");
  });

  test("the shipped default finds each node's interface by its default route; other forms pass through", () => {
    expect(agentOf(FILE).underlayInterface).toBe("default-route");
    expect(
      agentOf(renderManifest({ underlayInterface: "cidr=10.0.0.0/8,192.168.0.0/16" })).underlayInterface,
    ).toBe("cidr=10.0.0.0/8,192.168.0.0/16");
    expect(agentOf(renderManifest({ underlayInterface: "interface=^(eth|ens)" })).underlayInterface).toBe(
      "interface=^(eth|ens)",
    );
  });

  test("a pool alone gets the family's default block size", () => {
    const a = agentOf(renderManifest({ poolCidrs: ["10.60.0.0/14", "fd00::/48"] }));
    expect(a.pools).toEqual([
      { cidr: "10.60.0.0/14", blockSize: 26 },
      { cidr: "fd00::/48", blockSize: 122 },
    ]);
  });

  test("bad values are usage errors naming the value", () => {
    for (const [s, re] of [
      [{ poolCidrs: ["10.0.0.1/16"] }, /host bits/],
      [{ poolCidrs: ["10.0.0.0/33"] }, /10\.0\.0\.0\/33/],
      [{ poolCidrs: ["10.0.0.0/28"] }, /blockSize 26/],
      [{ mtu: 100 }, /--mtu 100/],
      [{ underlayInterface: "eth0/../x" }, /--underlay-interface/],
      [{ underlayInterface: "cidr=10.0.0.0/33" }, /--underlay-interface.*invalid prefix length/],
      [{ underlayInterface: "interface=([" }, /--underlay-interface.*not a regular expression/],
      [{ image: "bad image" }, /--image bad image/],
    ] as const) {
      let err: unknown;
      try {
        renderManifest(s);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TartanError);
      expect((err as TartanError).code).toBe("cli-usage");
      expect((err as TartanError).message).toMatch(re);
    }
  });
});
