/**
 * The key of an object inside a store: `<kind>/<namespace or _>/<name>`. "_" cannot clash with a
 * namespace (namespaces are DNS labels). Every adapter orders lists by this key, byte-wise, which
 * is the order etcd returns a range in, so lists look the same whatever the adapter.
 */
export function storeKey(kind: string, name: string, namespace?: string): string {
  return `${kind}/${namespace || "_"}/${name}`;
}
