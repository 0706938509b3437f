// The nftables contract against the in-memory FakeNft (no root).
import { FakeNft } from "../../src/dataplane/fake/fake-nft.ts";
import { nftContract } from "../contract/nft-contract.ts";

nftContract("FakeNft", async () => ({
  nft: new FakeNft(),
  netns: "/run/netns/fake-contract",
  cleanup: async () => {},
}));
