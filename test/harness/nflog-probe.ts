// Run by test/integration/nflog-socket.test.ts INSIDE a test namespace (ip netns exec): binds the
// drop log group with the real NflogSocket, checks that a second bind of the group is refused,
// sends one UDP datagram and one TCP SYN over loopback (the namespace's nft rules log and drop
// them), polls, and prints what was read as one JSON line.

import { createSocket } from "node:dgram";
import { connect } from "node:net";
import { NflogSocket } from "../../src/dataplane/linux/netlink/nflog-socket.ts";

const group = Number(process.argv[2]);
const s = NflogSocket.open(group);
let second = "";
try {
  NflogSocket.open(group).close();
  second = "bound twice";
} catch (e) {
  second = (e as Error).message;
}
const empty = s.poll();
const u = createSocket("udp4");
u.send("x", 9999, "127.0.0.1", () => u.close());
const t = connect({ host: "::1", port: 9999 });
t.on("error", () => {});
const packets = [];
const deadline = Date.now() + 5000;
while (packets.length < 2 && Date.now() < deadline) {
  await Bun.sleep(50);
  packets.push(...s.poll().packets);
}
t.destroy();
s.close();
process.stdout.write(`${JSON.stringify({ second, emptyFirst: empty.packets.length, packets })}\n`);
