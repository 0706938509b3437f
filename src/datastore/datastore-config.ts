/** The files of a TLS connection to etcd (PEM): the CA that signed etcd's certificate, and ours. */
export interface EtcdTlsFiles {
  /** The CA that signed etcd's server certificate (etcd's --cert-file). */
  caFile: string;
  /** Our client certificate and key, for an etcd started with --client-cert-auth. */
  certFile?: string;
  keyFile?: string;
}

/** An etcd user (etcd's own auth, `etcdctl auth enable`); the password is read from a file. */
export interface EtcdUser {
  username: string;
  passwordFile: string;
}

export interface EtcdDatastoreConfig {
  type: "etcd";
  endpoints: string[];
  prefix?: string;
  timeoutMs?: number;
  tls?: EtcdTlsFiles;
  auth?: EtcdUser;
}

export type DatastoreConfig = { type: "local"; path: string } | EtcdDatastoreConfig;
