import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { run } from "../../exec/run.ts";

/** What the stand-in API server and its clients need: CA, server and client certificates, a token. */
export interface KubeApiCerts {
  dir: string;
  caFile: string;
  caKeyFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** A client certificate (CN admin, O system:masters) of the CA. */
  clientCertFile: string;
  clientKeyFile: string;
  /** A bearer token the server accepts (file: one line). */
  tokenFile: string;
  token: string;
}

const DAYS = "3650";

async function openssl(args: string[]): Promise<void> {
  await run(["openssl", ...args], { timeoutMs: 20_000 });
}

async function newKey(file: string): Promise<void> {
  await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
}

/**
 * Makes, with openssl (as lab-certs.ts does for etcd), the files of a stand-in API server in
 * `dir` (0700, files 0600): a CA unless `ca` names one to reuse (the lab's), a server certificate
 * for `serverIps`, an admin client certificate and a random bearer token. Kept when present.
 */
export async function makeKubeApiCerts(
  dir: string,
  serverIps: string[],
  ca?: { caFile: string; caKeyFile: string },
): Promise<KubeApiCerts> {
  const c: KubeApiCerts = {
    dir,
    caFile: ca?.caFile ?? `${dir}/ca.crt`,
    caKeyFile: ca?.caKeyFile ?? `${dir}/ca.key`,
    serverCertFile: `${dir}/kube-apiserver.crt`,
    serverKeyFile: `${dir}/kube-apiserver.key`,
    clientCertFile: `${dir}/kube-admin.crt`,
    clientKeyFile: `${dir}/kube-admin.key`,
    tokenFile: `${dir}/kube-token`,
    token: "",
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  if (existsSync(c.tokenFile) && existsSync(c.clientCertFile)) {
    c.token = (await Bun.file(c.tokenFile).text()).trim();
    return c;
  }
  if (!ca) {
    await newKey(c.caKeyFile);
    await openssl([
      ...["req", "-new", "-x509", "-key", c.caKeyFile, "-subj", "/CN=tartan-kube-ca", "-days", DAYS],
      ...["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
      ...["-out", c.caFile],
    ]);
  }
  await Promise.all([newKey(c.serverKeyFile), newKey(c.clientKeyFile)]);
  const signed = (key: string, subj: string, ext: string[], out: string) =>
    openssl([
      ...[
        "req",
        "-new",
        "-x509",
        "-key",
        key,
        "-subj",
        subj,
        "-days",
        DAYS,
        "-CA",
        c.caFile,
        "-CAkey",
        c.caKeyFile,
      ],
      ...["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "keyUsage=critical,digitalSignature"],
      ...ext.flatMap((e) => ["-addext", e]),
      ...["-out", out],
    ]);
  await Promise.all([
    signed(
      c.serverKeyFile,
      "/CN=kube-apiserver",
      [`subjectAltName=${serverIps.map((ip) => `IP:${ip}`).join(",")}`, "extendedKeyUsage=serverAuth"],
      c.serverCertFile,
    ),
    signed(c.clientKeyFile, "/CN=admin/O=system:masters", ["extendedKeyUsage=clientAuth"], c.clientCertFile),
  ]);
  c.token = randomBytes(24).toString("hex");
  writeFileSync(c.tokenFile, `${c.token}\n`, { mode: 0o600 });
  for (const f of readdirSync(dir)) chmodSync(`${dir}/${f}`, 0o600);
  return c;
}
