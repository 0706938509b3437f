// Where the Dataplane contract runs against a real kernel driver (iproute2 or netlink): the "host"
// is a fresh tt-t-* namespace of its own (never the root one), and the container namespace is
// reached through a symlinked path, so that both targeting modes run (ip -n NAME and nsenter PATH).
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Dataplane } from "../../src/dataplane/dataplane.ts";
import type { DataplaneFixture } from "../contract/dataplane-contract.ts";
import { createNetns, deleteNetns, type TestNetns } from "./netns.ts";

/** A contract fixture for `dp`; its cleanup (and a set-up that fails halfway) removes all it made. */
export async function linuxDataplaneFixture(dp: Dataplane): Promise<DataplaneFixture> {
  const made: TestNetns[] = [];
  let dir: string | undefined;
  const cleanup = async () => {
    for (const ns of made.reverse()) await deleteNetns(ns.name);
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const hostNs = await createNetns("h");
    made.push(hostNs);
    const ctrNs = await createNetns("c");
    made.push(ctrNs);
    dir = mkdtempSync(join(tmpdir(), "tt-t-"));
    const ctrPath = join(dir, "netns");
    symlinkSync(ctrNs.path, ctrPath);
    return {
      dp,
      host: hostNs.path,
      container: ctrPath,
      missing: `/run/netns/tt-t-missing-${hostNs.name.slice(-8)}`,
      cleanup,
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
