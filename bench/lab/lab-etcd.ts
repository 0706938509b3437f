// The lab's etcd from a benchmark's helper process: the lab runs it with TLS and client-cert
// auth (decision 0013), so a helper that writes to it straight gets the lab's client certificate
// on its command line (`--endpoint URL --etcd-ca F --etcd-cert F --etcd-key F`).
import { Etcd3 } from "etcd3";
import { etcdFlagsArgv } from "../../src/cli/datastore-target.ts";
import type { EtcdDatastoreConfig, EtcdTlsFiles } from "../../src/datastore/datastore-config.ts";
import { etcdClientSecrets } from "../../src/datastore/etcd/etcd-credentials.ts";
import { allowTlsToIpEndpoints } from "./etcd3-tls-ip-servername.ts";

export interface LabEtcdInfo {
  endpoint: string;
  tls?: EtcdTlsFiles;
}

/** The arguments that hand the lab's etcd to a helper process. */
export function labEtcdArgv(etcd: LabEtcdInfo): string[] {
  return ["--endpoint", etcd.endpoint, ...etcdFlagsArgv(etcd.tls)];
}

/** The helper's side: the datastore config from those arguments. */
export function labEtcdConfig(argv: readonly string[]): EtcdDatastoreConfig {
  const opt = (n: string) => {
    const i = argv.indexOf(n);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const endpoint = opt("--endpoint");
  if (!endpoint) throw new Error("--endpoint URL is required");
  const ca = opt("--etcd-ca");
  const cert = opt("--etcd-cert");
  const key = opt("--etcd-key");
  return {
    type: "etcd",
    endpoints: [endpoint],
    ...(ca ? { tls: { caFile: ca, ...(cert && key ? { certFile: cert, keyFile: key } : {}) } } : {}),
  };
}

/**
 * A raw etcd3 client (a dev dependency: an independent client for benches and tests) with the
 * same TLS files, for bulk transactions the Datastore port lacks and for etcd administration.
 */
export function labEtcd3(config: EtcdDatastoreConfig): Etcd3 {
  const { tls, auth } = etcdClientSecrets(config);
  if (tls) allowTlsToIpEndpoints();
  return new Etcd3({
    hosts: config.endpoints,
    ...(tls
      ? {
          credentials: {
            rootCertificate: tls.ca,
            ...(tls.cert && tls.key ? { certChain: tls.cert, privateKey: tls.key } : {}),
          },
        }
      : {}),
    ...(auth ? { auth } : {}),
  });
}
