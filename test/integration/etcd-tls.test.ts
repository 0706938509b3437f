// The etcd adapter against a real etcd with TLS and client-certificate authentication, and one
// with etcd users, started by the harness inside the private namespace this stage runs in
// (skipped anywhere else). The certificates come from the lab's own generator (openssl).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labEtcd3 } from "../../bench/lab/lab-etcd.ts";
import type { WatchEvent } from "../../src/datastore/datastore.ts";
import type { EtcdDatastoreConfig } from "../../src/datastore/datastore-config.ts";
import { EtcdDatastore } from "../../src/datastore/etcd/etcd-datastore.ts";
import { openDatastore } from "../../src/datastore/open-datastore.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";
import { type LabCerts, makeLabCerts } from "../../src/lab/lab-certs.ts";
import { node } from "../contract/datastore-contract.ts";
import { type EtcdServer, etcdSkipReason, startEtcd } from "../harness/etcd.ts";
import { eventually } from "../harness/eventually.ts";

if (etcdSkipReason) console.warn(`etcd TLS tests skipped: ${etcdSkipReason}`);
const skip = etcdSkipReason;

const dir = mkdtempSync(join(tmpdir(), "tt-t-etcd-tls-"));
let certs: LabCerts;
/** A second, unrelated CA with its own client certificate: what an outsider could make. */
let other: LabCerts;
let mtls: EtcdServer | undefined;
let users: EtcdServer | undefined;
/** Plain etcd with users whose tokens expire after 1 s unused. */
let shortTokens: EtcdServer | undefined;

beforeAll(async () => {
  if (skip) return;
  [certs, other] = await Promise.all([
    makeLabCerts(join(dir, "ours"), "t", ["127.0.0.1"]),
    makeLabCerts(join(dir, "other"), "o", ["127.0.0.1"]),
  ]);
  const server = { caFile: certs.caFile, certFile: certs.serverCertFile, keyFile: certs.serverKeyFile };
  [mtls, users, shortTokens] = await Promise.all([
    startEtcd({ tls: { ...server, clientCertAuth: true } }),
    startEtcd({ tls: { ...server, clientCertAuth: false } }),
    startEtcd({ extraArgs: ["--auth-token-ttl=1"] }),
  ]);
});
afterAll(async () => {
  await Promise.all([mtls?.cleanup(), users?.cleanup(), shortTokens?.cleanup()]);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Turns auth on in an etcd with a root user and user `name` (password `${name}-pw`), whose role
 * may read and write `/tt-t-${name}/`. etcd3, an independent client, sets them up.
 */
async function enableAuth(config: EtcdDatastoreConfig, name: string): Promise<void> {
  const admin = labEtcd3(config);
  try {
    await admin.role("root").create();
    await admin.user("root").create("root-pw");
    await admin.user("root").addRole("root");
    const role = await admin.role(name).create();
    await role.grant({ permission: "Readwrite", range: admin.range({ prefix: `/tt-t-${name}/` }) });
    await admin.user(name).create(`${name}-pw`);
    await admin.user(name).addRole(name);
    await admin.auth.authEnable();
  } finally {
    admin.close();
  }
}

/** The error of one call through a fresh client (1 s deadline), closed afterwards. */
async function failure(config: Omit<EtcdDatastoreConfig, "type">): Promise<TartanError> {
  const ds = new EtcdDatastore({ timeoutMs: 1000, ...config });
  try {
    await ds.list("Node");
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  } finally {
    await ds.close();
  }
  throw new Error("the call succeeded");
}

describe.skipIf(skip !== undefined)("etcd with TLS and client-certificate authentication", () => {
  test("the lab's client certificate works: create, get, list and a watch, through openDatastore", async () => {
    const ds = await openDatastore({
      type: "etcd",
      endpoints: [mtls!.endpoint],
      prefix: "/tt-t-mtls",
      tls: certs.client,
    });
    try {
      const created = await ds.create(node("n1"));
      expect((await ds.get("Node", "n1"))?.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
      const { items, revision } = await ds.list("Node");
      expect(items.map((o) => o.metadata.name)).toEqual(["n1"]);
      const events: WatchEvent[] = [];
      const w = ds.watch("Node", revision!, (e) => events.push(e));
      await ds.create(node("n2"));
      await eventually("the watch event", () => events.map((e) => e.object.metadata.name), {
        timeoutMs: 5000,
        until: (names) => names.includes("n2"),
      });
      w.close();
    } finally {
      await ds.close();
    }
  });

  test("no client certificate: refused by etcd, datastore-tls saying which flags to give", async () => {
    const e = await failure({ endpoints: [mtls!.endpoint], tls: { caFile: certs.caFile } });
    expect(e.code).toBe("datastore-tls");
    expect(e.message).toContain("etcd refused our client certificate");
    expect(e.hint).toContain("--etcd-cert");
  });

  test("a client certificate of another CA: refused by etcd", async () => {
    const e = await failure({
      endpoints: [mtls!.endpoint],
      tls: { caFile: certs.caFile, certFile: other.client.certFile, keyFile: other.client.keyFile },
    });
    expect(e.code).toBe("datastore-tls");
    expect(e.message).toContain("etcd refused our client certificate");
  });

  test("the wrong CA: etcd's certificate is not trusted, and the hint names --etcd-ca", async () => {
    const e = await failure({
      endpoints: [mtls!.endpoint],
      tls: { caFile: other.caFile, certFile: certs.client.certFile, keyFile: certs.client.keyFile },
    });
    expect(e.code).toBe("datastore-tls");
    expect(e.message).toContain(`the datastore at ${mtls!.endpoint}: etcd's certificate is not trusted`);
    expect(e.hint).toContain("--etcd-ca");
  });

  test("a host name that etcd's certificate does not list is refused (the IP is checked, too)", async () => {
    const e = await failure({
      endpoints: [mtls!.endpoint.replace("127.0.0.1", "localhost")],
      tls: certs.client,
    });
    expect(e.code).toBe("datastore-tls");
    expect(e.message).toContain("does not name the endpoint's host");
  });

  test("plain gRPC to the TLS port gets nothing (no object is read)", async () => {
    const e = await failure({ endpoints: [mtls!.endpoint.replace("https:", "http:")] });
    expect(["datastore-unavailable", "datastore-tls"]).toContain(e.code);
  });
});

describe.skipIf(skip !== undefined)("etcd with users (auth enabled)", () => {
  const pwFile = join(dir, "tartan.password");
  const badPwFile = join(dir, "bad.password");
  beforeAll(async () => {
    if (skip) return;
    writeFileSync(pwFile, "tartan-pw\n", { mode: 0o600 });
    writeFileSync(badPwFile, "nope\n", { mode: 0o600 });
    await enableAuth({ type: "etcd", endpoints: [users!.endpoint], tls: { caFile: certs.caFile } }, "tartan");
  });

  const tls = () => ({ caFile: certs.caFile });

  test("the right user and password work", async () => {
    const ds = await openDatastore({
      type: "etcd",
      endpoints: [users!.endpoint],
      prefix: "/tt-t-tartan",
      tls: tls(),
      auth: { username: "tartan", passwordFile: pwFile },
    });
    try {
      await ds.create(node("u1"));
      expect((await ds.list("Node")).items.map((o) => o.metadata.name)).toEqual(["u1"]);
    } finally {
      await ds.close();
    }
  });

  test("a wrong password: datastore-auth", async () => {
    const e = await failure({
      endpoints: [users!.endpoint],
      prefix: "/tt-t-tartan",
      tls: tls(),
      auth: { username: "tartan", passwordFile: badPwFile },
    });
    expect(e.code).toBe("datastore-auth");
    expect(e.message).toContain("etcd refused the user name or password");
    expect(e.hint).toContain("--etcd-password-file");
  });

  test("no user at all: datastore-auth, etcd requires one", async () => {
    const e = await failure({ endpoints: [users!.endpoint], prefix: "/tt-t-tartan", tls: tls() });
    expect(e.code).toBe("datastore-auth");
    expect(e.message).toContain("requires a user");
  });

  test("a user without rights on the prefix: datastore-auth, permission", async () => {
    const e = await failure({
      endpoints: [users!.endpoint],
      prefix: "/elsewhere",
      tls: tls(),
      auth: { username: "tartan", passwordFile: pwFile },
    });
    expect(e.code).toBe("datastore-auth");
    expect(e.message).toContain("lacks permission");
  });
});

describe.skipIf(skip !== undefined)("etcd user tokens that expire", () => {
  test("a call after the token expired authenticates again and succeeds; a watch keeps delivering", async () => {
    const pwFile = join(dir, "short.password");
    writeFileSync(pwFile, "short-pw\n", { mode: 0o600 });
    await enableAuth({ type: "etcd", endpoints: [shortTokens!.endpoint] }, "short");
    const ds = new EtcdDatastore({
      endpoints: [shortTokens!.endpoint],
      prefix: "/tt-t-short",
      auth: { username: "short", passwordFile: pwFile },
      timeoutMs: 2000,
    });
    try {
      const { revision } = await ds.list("Node");
      const events: WatchEvent[] = [];
      const w = ds.watch("Node", revision!, (e) => events.push(e));
      await ds.create(node("t1"));
      // etcd forgets a simple token after --auth-token-ttl unused: 1 s here.
      await Bun.sleep(2500);
      await ds.create(node("t2"));
      expect((await ds.list("Node")).items.map((o) => o.metadata.name)).toEqual(["t1", "t2"]);
      await eventually("both watch events", () => events.map((e) => e.object.metadata.name), {
        timeoutMs: 5000,
        until: (names) => names.includes("t1") && names.includes("t2"),
      });
      w.close();
    } finally {
      await ds.close();
    }
  });
});
