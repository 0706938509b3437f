import { chmodSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import type { EtcdTlsFiles } from "../datastore/open-datastore.ts";
import { run } from "../exec/run.ts";

/** The lab's PKI for its etcd: one CA, etcd's server certificate, one client certificate. */
export interface LabCerts {
  dir: string;
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** What every lab component gives its etcd client (agents, CLI, forget-node, benches). */
  client: Required<EtcdTlsFiles>;
}

export function labCertPaths(labDir: string): LabCerts {
  const dir = `${labDir}/pki`;
  return {
    dir,
    caFile: `${dir}/ca.crt`,
    caKeyFile: `${dir}/ca.key`,
    serverCertFile: `${dir}/etcd-server.crt`,
    serverKeyFile: `${dir}/etcd-server.key`,
    client: { caFile: `${dir}/ca.crt`, certFile: `${dir}/client.crt`, keyFile: `${dir}/client.key` },
  };
}

const DAYS = "3650"; // a lab lives on tmpfs until `lab down` or a reboot; expiry is not its concern

async function openssl(args: string[]): Promise<void> {
  await run(["openssl", ...args], { timeoutMs: 20_000 });
}

/** An EC P-256 key (fast to make, accepted by etcd's Go TLS and by Bun's BoringSSL). */
async function newKey(file: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
}

/**
 * Makes the lab's CA, etcd's server certificate (valid for `serverIps`) and one client
 * certificate (CN `tartan-lab`), with `openssl` (decision 0013), in `<lab dir>/pki`: directory
 * 0700, every file 0600 (keys and certificates alike; only root's lab processes read them).
 * Kept when they exist, so `lab etcd start` after a stop reuses them.
 */
export async function makeLabCerts(labDir: string, lab: string, serverIps: string[]): Promise<LabCerts> {
  const c = labCertPaths(labDir);
  if (existsSync(c.client.certFile)) return c;
  mkdirSync(c.dir, { recursive: true, mode: 0o700 });
  chmodSync(c.dir, 0o700);
  await Promise.all([newKey(c.caKeyFile), newKey(c.serverKeyFile), newKey(c.client.keyFile)]);
  await openssl([
    "req",
    "-new",
    "-x509",
    "-key",
    c.caKeyFile,
    "-subj",
    `/CN=tartan-lab-${lab}-ca`,
    "-days",
    DAYS,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
    "-out",
    c.caFile,
  ]);
  const signed = (key: string, cn: string, ext: string[], out: string) =>
    openssl([
      "req",
      "-new",
      "-x509",
      "-key",
      key,
      "-subj",
      `/CN=${cn}`,
      "-days",
      DAYS,
      "-CA",
      c.caFile,
      "-CAkey",
      c.caKeyFile,
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-addext",
      "keyUsage=critical,digitalSignature",
      ...ext.flatMap((e) => ["-addext", e]),
      "-out",
      out,
    ]);
  await Promise.all([
    signed(
      c.serverKeyFile,
      `tartan-lab-${lab}-etcd`,
      // clientAuth too: etcd's JSON gateway dials etcd's own gRPC port with this certificate,
      // and with --client-cert-auth that connection must pass as a client (else every gateway
      // request fails with "connection reset by peer").
      [
        `subjectAltName=${serverIps.map((ip) => `IP:${ip}`).join(",")}`,
        "extendedKeyUsage=serverAuth,clientAuth",
      ],
      c.serverCertFile,
    ),
    signed(c.client.keyFile, "tartan-lab", ["extendedKeyUsage=clientAuth"], c.client.certFile),
  ]);
  for (const f of readdirSync(c.dir)) chmodSync(`${c.dir}/${f}`, 0o600);
  return c;
}
