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

/**
 * The Kubernetes API (decision 0015): a kubeconfig file, or (no kubeconfig) the pod's service
 * account and KUBERNETES_SERVICE_HOST/PORT.
 */
export interface KubernetesDatastoreConfig {
  type: "kubernetes";
  /** Absolute path of a kubeconfig; absent: in-cluster. */
  kubeconfig?: string;
  /** A context of the kubeconfig (default: its current-context). */
  context?: string;
  /** Where tartan's namespaced objects (the node-reclaimer Lease) live; default tartan-system. */
  namespace?: string;
  /** Deadline of one request (watches exempt), default 10 s. */
  timeoutMs?: number;
}

export type DatastoreConfig =
  | { type: "local"; path: string }
  | EtcdDatastoreConfig
  | KubernetesDatastoreConfig;
