// The nftables contract against the real nft in a fresh tt-t-* namespace (never the root one).
import { afterAll } from "bun:test";
import { LinuxNft } from "../../src/dataplane/linux/linux-nft.ts";
import { nftContract } from "../contract/nft-contract.ts";
import { cleanupAllNetns, createNetns, deleteNetns, isRoot } from "../harness/netns.ts";

afterAll(cleanupAllNetns);

// Both ways LinuxNft runs a script: libnftables in this process (small scripts, the default)
// and the nft binary (large scripts, or where the library cannot be loaded).
nftContract(
  "Linux (libnftables in-process)",
  async () => {
    const ns = await createNetns("nftc");
    return { nft: new LinuxNft(), netns: ns.path, cleanup: () => deleteNetns(ns.name) };
  },
  { skip: !isRoot },
);
nftContract(
  "Linux (nft binary)",
  async () => {
    const ns = await createNetns("nftc");
    return {
      nft: new LinuxNft("nft", { libnftables: false }),
      netns: ns.path,
      cleanup: () => deleteNetns(ns.name),
    };
  },
  { skip: !isRoot },
);
