// The authenticated datastore, without an etcd: how TLS files and users are configured (agent
// config, CLI flags, lab state), how refusals are reported, and the modes of local store files.
// The real handshakes are in test/integration/etcd-tls.test.ts.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAgentConfig, parseDatastoreFile } from "../../src/agent/agent-config.ts";
import { datastoreTarget, etcdFlagsArgv } from "../../src/cli/datastore-target.ts";
import { etcdClientSecrets } from "../../src/datastore/etcd/etcd-credentials.ts";
import { etcdError } from "../../src/datastore/etcd/etcd-error.ts";
import { GRPC, GrpcError } from "../../src/datastore/etcd/grpc-error.ts";
import { SqliteDatastore } from "../../src/datastore/local/sqlite-datastore.ts";
import { openSqliteIpamStore } from "../../src/datastore/local/sqlite-ipam-store.ts";
import { TartanError } from "../../src/errors/tartan-error.ts";

const tmp = mkdtempSync(join(tmpdir(), "tt-dssec-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function thrown(f: () => unknown): TartanError {
  try {
    f();
  } catch (e) {
    if (e instanceof TartanError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

const mode = (p: string) => statSync(p).mode & 0o777;
const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n";

describe("agent config: datastore.tls and datastore.auth", () => {
  const base = "nodeName: n1\nunderlayInterface: eth0\n";
  test("TLS files and a user are read into the datastore config", () => {
    const c = parseAgentConfig(
      `${base}datastore: {type: etcd, endpoints: ["https://10.0.0.1:2379"], ` +
        "tls: {caFile: /etc/tartan/etcd/ca.crt, certFile: /etc/tartan/etcd/client.crt, keyFile: /etc/tartan/etcd/client.key}, " +
        "auth: {username: tartan, passwordFile: /etc/tartan/etcd/password}}\n",
    );
    expect(c.datastore).toEqual({
      type: "etcd",
      endpoints: ["https://10.0.0.1:2379"],
      tls: {
        caFile: "/etc/tartan/etcd/ca.crt",
        certFile: "/etc/tartan/etcd/client.crt",
        keyFile: "/etc/tartan/etcd/client.key",
      },
      auth: { username: "tartan", passwordFile: "/etc/tartan/etcd/password" },
    });
  });

  test("refused: tls with http endpoints, a certificate without its key, relative paths, inline passwords", () => {
    const bad = (ds: string) => thrown(() => parseAgentConfig(`${base}datastore: ${ds}\n`));
    expect(bad('{type: etcd, endpoints: ["http://h:2379"], tls: {caFile: /ca}}').message).toContain(
      "with tls, every endpoint must be https://",
    );
    expect(
      bad('{type: etcd, endpoints: ["https://h:2379"], tls: {caFile: /ca, certFile: /c}}').message,
    ).toContain("certFile and keyFile go together");
    expect(bad('{type: etcd, endpoints: ["https://h:2379"], tls: {caFile: ca.crt}}').message).toContain(
      "datastore.tls.caFile: must be an absolute path",
    );
    const e = bad('{type: etcd, endpoints: ["https://h:2379"], auth: {username: u, password: p}}');
    expect(e.code).toBe("agent-config-invalid");
    expect(e.message).toContain("datastore.auth");
  });

  test("a file with only a datastore: section is a datastore file (--config)", () => {
    expect(
      parseDatastoreFile(
        'datastore: {type: etcd, endpoints: ["https://10.0.0.1:2379"], tls: {caFile: /ca.crt}}\n',
        "ds.yaml",
      ),
    ).toEqual({ type: "etcd", endpoints: ["https://10.0.0.1:2379"], tls: { caFile: "/ca.crt" } });
    expect(thrown(() => parseDatastoreFile("datastore: {type: consul}\n", "ds.yaml")).message).toStartWith(
      "ds.yaml: datastore",
    );
  });
});

describe("CLI: --datastore URL with --etcd-ca/--etcd-cert/--etcd-key/--etcd-user", () => {
  const root = join(tmp, "nolabs");
  test("a bare https URL is etcd; the flags become its tls and auth", () => {
    expect(
      datastoreTarget(
        {
          datastore: "https://10.0.0.1:2379,https://10.0.0.2:2379",
          etcdCa: "/p/ca.crt",
          etcdCert: "/p/c.crt",
          etcdKey: "/p/c.key",
          etcdUser: "tartan",
          etcdPasswordFile: "/p/pw",
        },
        root,
      ),
    ).toEqual({
      type: "direct",
      source: "--datastore",
      config: {
        type: "etcd",
        endpoints: ["https://10.0.0.1:2379", "https://10.0.0.2:2379"],
        tls: { caFile: "/p/ca.crt", certFile: "/p/c.crt", keyFile: "/p/c.key" },
        auth: { username: "tartan", passwordFile: "/p/pw" },
      },
    });
  });

  test("misuse is a usage error that says what goes with what", () => {
    const e = (o: Parameters<typeof datastoreTarget>[0]) => thrown(() => datastoreTarget(o, root));
    expect(e({ etcdCa: "/ca" }).message).toContain("--etcd-ca go with --datastore");
    expect(e({ datastore: "https://h:2379", etcdCert: "/c", etcdKey: "/k" }).message).toContain(
      "need --etcd-ca",
    );
    expect(e({ datastore: "https://h:2379", etcdCa: "/ca", etcdCert: "/c" }).message).toContain(
      "go together",
    );
    expect(e({ datastore: "http://h:2379", etcdCa: "/ca" }).message).toContain("needs https://");
    expect(e({ datastore: "local=/x.db", etcdCa: "/ca" }).message).toContain("etcd --datastore only");
    expect(e({ datastore: "https://h:2379", etcdUser: "u" }).code).toBe("cli-usage");
  });

  test("a lab's TLS files reach the command re-run inside the lab", () => {
    const labs = join(tmp, "labs");
    mkdirSync(join(labs, "sec"), { recursive: true });
    const tls = {
      caFile: "/run/l/pki/ca.crt",
      certFile: "/run/l/pki/client.crt",
      keyFile: "/run/l/pki/client.key",
    };
    writeFileSync(
      join(labs, "sec", "lab.json"),
      JSON.stringify({
        name: "sec",
        fabric: { netns: "tl-sec-fabric" },
        etcd: { endpoint: "https://198.18.0.1:2379", tls },
      }),
    );
    const t = datastoreTarget({}, labs);
    expect(t).toMatchObject({ type: "lab", endpoint: "https://198.18.0.1:2379", tls });
    expect(etcdFlagsArgv(tls)).toEqual([
      "--etcd-ca",
      tls.caFile,
      "--etcd-cert",
      tls.certFile,
      "--etcd-key",
      tls.keyFile,
    ]);
    expect(etcdFlagsArgv(undefined)).toEqual([]);
  });
});

describe("etcd adapter: TLS files and users are checked before connecting", () => {
  const ca = join(tmp, "ca.crt");
  const key = join(tmp, "c.key");
  const pw = join(tmp, "pw");
  writeFileSync(ca, PEM_CERT);
  writeFileSync(key, PEM_KEY);
  writeFileSync(pw, "s3cret\n");
  const https = ["https://10.0.0.1:2379"];

  test("files are read; the password loses its trailing newline", () => {
    const s = etcdClientSecrets({
      type: "etcd",
      endpoints: https,
      tls: { caFile: ca, certFile: ca, keyFile: key },
      auth: { username: "u", passwordFile: pw },
    });
    expect(s.tls?.ca.toString()).toBe(PEM_CERT);
    expect(s.tls?.key?.toString()).toBe(PEM_KEY);
    expect(s.auth).toEqual({ username: "u", password: "s3cret" });
  });

  test("a missing, non-PEM or mismatched file is datastore-tls naming it; a missing password file datastore-auth", () => {
    const e = (c: Parameters<typeof etcdClientSecrets>[0]) => thrown(() => etcdClientSecrets(c));
    const missing = e({ type: "etcd", endpoints: https, tls: { caFile: join(tmp, "nope.crt") } });
    expect(missing.code).toBe("datastore-tls");
    expect(missing.message).toContain("cannot read the etcd CA file");
    expect(missing.message).toContain("ENOENT");
    expect(e({ type: "etcd", endpoints: https, tls: { caFile: pw } }).message).toContain("is not a PEM file");
    expect(
      e({ type: "etcd", endpoints: https, tls: { caFile: ca, certFile: ca, keyFile: ca } }).message,
    ).toContain("client key");
    expect(e({ type: "etcd", endpoints: ["http://h:2379"], tls: { caFile: ca } }).message).toContain(
      "not https://",
    );
    expect(e({ type: "etcd", endpoints: ["http://a:2379", "https://b:2379"] }).message).toContain("mix");
    const auth = e({
      type: "etcd",
      endpoints: https,
      auth: { username: "u", passwordFile: join(tmp, "nopw") },
    });
    expect(auth.code).toBe("datastore-auth");
    expect(auth.message).toContain("password file");
  });

  test("refused handshakes and credentials are coded and say what to fix", () => {
    const grpc = (last: string) =>
      etcdError("list", https, new GrpcError(GRPC.unavailable, `no connection; last error: ${last}`));
    // The words Bun's TLS used in test/integration/etcd-tls.test.ts's cases.
    const noCert = grpc("error:10000412:SSL routines:OPENSSL_internal:SSLV3_ALERT_BAD_CERTIFICATE");
    expect(noCert.code).toBe("datastore-tls");
    expect(noCert.message).toContain("etcd refused our client certificate");
    expect(noCert.hint).toContain("--etcd-cert");
    const wrongCa = grpc("Error: unable to verify the first certificate");
    expect(wrongCa.code).toBe("datastore-tls");
    expect(wrongCa.message).toContain("etcd's certificate is not trusted");
    expect(wrongCa.hint).toContain("--etcd-ca");
    expect(grpc("Hostname/IP does not match certificate's altnames: IP: 10.0.0.1").message).toContain(
      "does not name the endpoint's host",
    );
    const bad = etcdError(
      "get",
      https,
      new GrpcError(GRPC.invalidArgument, "etcdserver: authentication failed, invalid user ID or password"),
    );
    expect(bad.code).toBe("datastore-auth");
    expect(bad.message).toContain("refused the user name or password");
    expect(bad.hint).toContain("--etcd-user");
    expect(etcdError("get", https, new Error("etcdserver: user name is empty")).message).toContain(
      "requires a user",
    );
    // https:// to a plain etcd: the handshake is cut; still unavailable (an outage looks the same).
    const cut = grpc(
      "Error: Client network socket disconnected before secure TLS connection was established",
    );
    expect(cut.code).toBe("datastore-unavailable");
    expect(cut.message).toContain("an etcd without TLS? then use http://");
    // Unreachable stays what it was.
    expect(grpc("Error: connect ECONNREFUSED 10.0.0.1:2379").code).toBe("datastore-unavailable");
  });
});

describe("local stores are the owner's only", () => {
  test("the SQLite datastore: file, -wal and -shm 0600, new directories 0700", async () => {
    const dir = join(tmp, "ds", "sub");
    const ds = SqliteDatastore.open(join(dir, "state.db"));
    await ds.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a" }, spec: {} });
    expect(mode(dir)).toBe(0o700);
    expect(mode(join(tmp, "ds"))).toBe(0o700);
    for (const f of ["state.db", "state.db-wal", "state.db-shm"]) expect(mode(join(dir, f))).toBe(0o600);
    await ds.close();
  });

  test("a datastore file left 0644 by an older version is tightened on open", async () => {
    const dir = join(tmp, "old");
    mkdirSync(dir);
    const path = join(dir, "state.db");
    (await SqliteDatastore.open(path)).close();
    chmodSync(path, 0o644);
    const ds = SqliteDatastore.open(path);
    expect(mode(path)).toBe(0o600);
    await ds.close();
  });

  test("the IPAM store: directory 0700, file, -wal and -shm 0600", () => {
    const dir = join(tmp, "ipam");
    const store = openSqliteIpamStore(dir);
    store.transaction((tx) => tx.setNodeBlocks("net", ["10.244.0.0/26"]));
    expect(mode(dir)).toBe(0o700);
    for (const f of ["tartan-ipam.db", "tartan-ipam.db-wal", "tartan-ipam.db-shm"]) {
      expect(mode(join(dir, f))).toBe(0o600);
    }
    store.close();
    // The umask is the process's again (withPrivateUmask puts it back).
    expect(process.umask()).not.toBe(0o077);
  });
});
