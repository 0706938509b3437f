// The drop log reader against the real kernel: nfnetlink_log in a fresh network namespace, fed by
// an nftables rule written like the policy drop rule (`log prefix "tartan-drop ing NS/POD " group
// N`, with the rate limit and counter). The socket binds the group, a second bind is refused
// (the kernel's EPERM, worded), polls never block, and a logged UDP datagram and TCP SYN come back decoded.
import { describe, expect, test } from "bun:test";
import { DROP_LOG_GROUP } from "../../src/calc/policy-names.ts";
import { isRoot, withNetns } from "../harness/netns.ts";

const RULES = `table inet tartan {
  counter drop-test { }
  chain out {
    type filter hook output priority 0;
    meta l4proto { tcp, udp } th dport 9999 counter name "drop-test" limit rate 10/second burst 20 packets log prefix "tartan-drop ing prod/web " group ${DROP_LOG_GROUP} drop
  }
}
`;

describe.skipIf(!isRoot)("nfnetlink_log socket (real kernel, test namespace)", () => {
  test("binds the group once, reads logged packets with prefix, addresses and ports", async () => {
    await withNetns("nflog", async (ns) => {
      await ns.exec(["nft", "-f", "-"], { stdin: RULES });
      const r = await ns.exec([process.execPath, "test/harness/nflog-probe.ts", String(DROP_LOG_GROUP)], {
        allowFailure: true,
      });
      expect(r.stderr).toBe("");
      const out = JSON.parse(r.stdout) as {
        second: string;
        emptyFirst: number;
        packets: {
          prefix: string;
          protocol: string;
          src: string;
          dst: string;
          dstPort?: number;
          family: number;
        }[];
      };
      expect(out.second).toContain("is bound by another process");
      expect(out.emptyFirst).toBe(0);
      const byProto = Object.fromEntries(out.packets.map((p) => [p.protocol, p]));
      expect(byProto.UDP).toMatchObject({
        prefix: "tartan-drop ing prod/web",
        family: 4,
        src: "127.0.0.1",
        dst: "127.0.0.1",
        dstPort: 9999,
      });
      expect(byProto.TCP).toMatchObject({
        prefix: "tartan-drop ing prod/web",
        family: 6,
        src: "::1",
        dst: "::1",
        dstPort: 9999,
      });
    });
  });
});
