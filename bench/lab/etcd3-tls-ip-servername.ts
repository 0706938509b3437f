import { isIP } from "node:net";
import tls from "node:tls";

let installed = false;

/**
 * Lets the etcd3 client (benches' and tests' independent etcd client; tartan's own client sends
 * no SNI for an IP by itself) connect over TLS to an etcd at an IP address under Bun. gRPC (grpc-js) passes the
 * endpoint's host as the TLS `servername` (SNI); Node accepts an IP there with a warning, Bun
 * refuses it ("Setting the TLS ServerName to an IP address is not permitted"), and RFC 6066
 * forbids IP literals in SNI anyway. This drops such a servername before `tls.connect`: no SNI
 * is sent, and the server's certificate is still checked against the IP (`host`), as measured:
 * a certificate without that IP in its subjectAltName is refused (decision 0013).
 */
export function allowTlsToIpEndpoints(): void {
  if (installed) return;
  installed = true;
  const connect = tls.connect;
  const patched = (options: unknown, ...rest: unknown[]) => {
    if (options && typeof options === "object") {
      const o = options as { servername?: unknown };
      if (typeof o.servername === "string" && isIP(o.servername)) options = { ...o, servername: "" };
    }
    return (connect as (...a: unknown[]) => tls.TLSSocket)(options, ...rest);
  };
  (tls as { connect: unknown }).connect = patched;
}
