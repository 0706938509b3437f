import { readFileSync } from "node:fs";
import { TartanError } from "../../errors/tartan-error.ts";
import type { EtcdDatastoreConfig } from "../datastore-config.ts";

/** The TLS files' contents and the etcd user, read from the configured files. */
export interface EtcdClientSecrets {
  tls?: { ca: Buffer; cert?: Buffer; key?: Buffer };
  auth?: { username: string; password: string };
}

const TLS_HINT =
  "datastore.tls in the agent config, or --etcd-ca/--etcd-cert/--etcd-key: PEM files readable by this user (docs/security.md)";

function tlsError(message: string, cause?: unknown): TartanError {
  return new TartanError("datastore-tls", message, TLS_HINT, cause === undefined ? undefined : { cause });
}

function readPem(what: string, path: string, marker: RegExp): Buffer {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw tlsError(`cannot read the etcd ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  if (!marker.test(b.toString("latin1"))) throw tlsError(`the etcd ${what} ${path} is not a PEM file`);
  return b;
}

/**
 * Checks the endpoints against the TLS settings and reads the CA, certificate, key and password
 * files. Fails before any connection, with `datastore-tls`/`datastore-auth` naming the file or
 * setting, so a typo is not reported as "etcd unreachable" two seconds later.
 */
export function etcdClientSecrets(c: EtcdDatastoreConfig): EtcdClientSecrets {
  const https = c.endpoints.filter((e) => /^https:\/\//i.test(e));
  if (https.length > 0 && https.length < c.endpoints.length) {
    throw tlsError(`the etcd endpoints mix https:// and plain ones: ${c.endpoints.join(", ")}`);
  }
  if (c.tls && https.length === 0) {
    throw tlsError(
      `TLS files are configured but the etcd endpoints are not https://: ${c.endpoints.join(", ")}`,
    );
  }
  const out: EtcdClientSecrets = {};
  if (c.tls) {
    const { caFile, certFile, keyFile } = c.tls;
    if (!certFile !== !keyFile) {
      throw tlsError("an etcd client certificate needs both its certificate file and its key file");
    }
    out.tls = {
      ca: readPem("CA file", caFile, /-----BEGIN CERTIFICATE-----/),
      ...(certFile && keyFile
        ? {
            cert: readPem("client certificate", certFile, /-----BEGIN CERTIFICATE-----/),
            key: readPem("client key", keyFile, /-----BEGIN [A-Z ]*PRIVATE KEY-----/),
          }
        : {}),
    };
  }
  if (c.auth) {
    let password: string;
    try {
      password = readFileSync(c.auth.passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch (e) {
      throw new TartanError(
        "datastore-auth",
        `cannot read the etcd password file ${c.auth.passwordFile}: ${(e as NodeJS.ErrnoException).code ?? e}`,
        "datastore.auth.passwordFile in the agent config, or --etcd-password-file: a file (mode 0600) holding the password",
        { cause: e },
      );
    }
    out.auth = { username: c.auth.username, password };
  }
  return out;
}
