// The node image: scripts/build-image.sh builds it with podman (base from the machine's own
// Debian sources through mmdebstrap, cached), then the image runs `tartan version`, has the tools
// the agent runs, and its install step (the DaemonSet's init container, command and mount read
// from deploy/tartan.yaml) puts a working, hash-identical plugin into a directory mounted as
// /host/opt/cni/bin. Every container runs with --network none (nothing touches the root
// namespace's network) and --rm; the test removes the image it tagged. The base image and the
// base tarball stay: they are the build's cache (/var/cache/tartan/image-base).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import pkg from "../../package.json" with { type: "json" };
import { run } from "../../src/exec/run.ts";
import { isRoot } from "../harness/netns.ts";
import { podmanAvailable } from "../harness/podman.ts";

const ROOT = resolve(import.meta.dir, "../..");
const mmdebstrap = await run(["mmdebstrap", "--version"], { allowFailure: true }).catch(() => null);
const canRun = isRoot && (await podmanAvailable()) && mmdebstrap?.code === 0;
const TAG = `localhost/tartan:e2e-${process.pid}`;
const T = 15 * 60_000;
const tmp = mkdtempSync(join(tmpdir(), "tartan-image-"));
const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

const MANIFEST = parseAllDocuments(readFileSync(join(ROOT, "deploy/tartan.yaml"), "utf8")).map((d) =>
  d.toJS(),
);
const POD = MANIFEST.find((o) => o?.kind === "DaemonSet").spec.template.spec;

/** The DaemonSet's install-cni init container, as the manifest declares it. */
function initContainer(): { command: string[]; mountPath: string } {
  const c = POD.initContainers.find((x: { name: string }) => x.name === "install-cni");
  return { command: c.command, mountPath: c.volumeMounts[0].mountPath };
}

const ULIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];
const podmanRun = (args: string[], timeoutMs = 60_000) =>
  // Low ulimits: podman's defaults exceed this machine's hard limits (as in test/harness/podman.ts).
  run(["podman", "run", "--rm", "--network", "none", "--pull", "never", ...ULIMITS, ...args], {
    allowFailure: true,
    timeoutMs,
  });

let built = false;
let buildSeconds = 0;

describe.skipIf(!canRun)("the node image (podman)", () => {
  beforeAll(async () => {
    const t0 = performance.now();
    const r = await run(["bash", join(ROOT, "scripts/build-image.sh"), "--tag", TAG], {
      allowFailure: true,
      timeoutMs: T,
    });
    buildSeconds = (performance.now() - t0) / 1000;
    console.log(`image build: ${buildSeconds.toFixed(1)} s`);
    if (r.code !== 0) throw new Error(`build-image.sh failed (${r.code}): ${r.stderr.slice(-2000)}`);
    expect(r.stdout.trim()).toBe(TAG);
    built = true;
  }, T);

  afterAll(async () => {
    await run(["podman", "rmi", "--force", TAG], { allowFailure: true });
    rmSync(tmp, { recursive: true, force: true });
    const left = await run(["podman", "image", "exists", TAG], { allowFailure: true });
    expect(left.code).not.toBe(0);
  });

  test("runs tartan version", async () => {
    expect(built).toBe(true);
    const r = await podmanRun([TAG, "version", "-o", "json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout);
    expect(v.version).toBe(pkg.version);
    expect(v.cniVersions).toContain("1.1.0");
  });

  test("has the tools the agent runs: nft, ip, bird", async () => {
    for (const [tool, arg, want] of [
      ["nft", "--version", /nftables v1\./],
      ["ip", "-V", /iproute2/],
      ["bird", "--version", /BIRD version 2\./],
    ] as const) {
      const r = await podmanRun(["--entrypoint", tool, TAG, arg]);
      expect(`${tool}: ${r.code} ${r.stdout}${r.stderr}`).toMatch(
        new RegExp(`^${tool}: 0 [^]*${want.source}`),
      );
    }
  });

  test("the DaemonSet's install step puts the plugin into the mounted host directory, verified", async () => {
    const { command, mountPath } = initContainer();
    // kubelet makes the directory (hostPath type DirectoryOrCreate).
    const host = join(tmp, "opt-cni-bin");
    mkdirSync(host);
    const argv = [...command.slice(1), "-o", "json"];
    const first = await podmanRun(["-v", `${host}:${mountPath}`, "--entrypoint", command[0]!, TAG, ...argv]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.to).toBe(mountPath);
    expect(report.files.map((f: { name: string; action: string }) => `${f.name}:${f.action}`)).toEqual([
      "tartan:installed",
      "tartan-ipam:installed",
    ]);
    // The same bytes as the build's plugin, tartan-ipam a link to it, nothing else left behind.
    expect(sha(join(host, "tartan"))).toBe(sha(join(ROOT, "dist/cni/tartan")));
    expect(report.files[0].sha256).toBe(sha(join(host, "tartan")));
    expect(readlinkSync(join(host, "tartan-ipam"))).toBe("tartan");
    expect(lstatSync(join(host, "tartan")).mode & 0o777).toBe(0o755);
    // The installed plugin runs on the host, as the runtime will call it.
    const v = await run([join(host, "tartan")], {
      env: { CNI_COMMAND: "VERSION" },
      stdin: "{}",
      allowFailure: true,
    });
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout).supportedVersions).toContain("1.1.0");
    // A pod restart runs the init container again: nothing changes.
    const again = await podmanRun(["-v", `${host}:${mountPath}`, "--entrypoint", command[0]!, TAG, ...argv]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).files.map((f: { action: string }) => f.action)).toEqual([
      "unchanged",
      "unchanged",
    ]);
  });

  test("the agent container's command accepts the ConfigMap's config (it stops at the missing underlay)", async () => {
    const agent = POD.containers.find((x: { name: string }) => x.name === "agent");
    const mount = agent.volumeMounts.find((m: { name: string }) => m.name === "config").mountPath;
    const conf = join(tmp, "config");
    mkdirSync(conf);
    const cm = MANIFEST.find((o) => o?.kind === "ConfigMap");
    writeFileSync(join(conf, "agent.yaml"), cm.data["agent.yaml"]);
    // --network none: only lo, so the agent gets past its config and finds no default route's
    // interface, before it opens the datastore (no API server here): proof that this build takes
    // the config as shipped.
    const r = await podmanRun([
      ...["-v", `${conf}:${mount}:ro`, "-e", "NODE_NAME=node-1"],
      ...["--entrypoint", agent.command[0], TAG, ...agent.command.slice(1)],
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain("agent-config-invalid");
    expect(r.stderr).toMatch(
      /underlayInterface default-route: no interface with a global address matches \(seen: none\)/,
    );
  });
});
