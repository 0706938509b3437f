/** Protobuf varint. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function field(num: number, bytes: Uint8Array | number[]): number[] {
  return [(num << 3) | 2, ...varint(bytes.length), ...bytes];
}

const utf8 = (s: string) => [...new TextEncoder().encode(s)];

/**
 * The smallest OpenAPI v2 document kubectl accepts, as gnostic's `openapi.v2.Document` protobuf
 * (what kubectl asks /openapi/v2 for): swagger "2.0" (field 1) and info (field 2: title 1,
 * version 2), no definitions. kubectl's client-side validation skips kinds the document does not
 * describe, and `apply` falls back to the types compiled into kubectl (built-ins: strategic merge)
 * or to a merge patch (custom resources), so `kubectl apply` works with validation on; it does
 * not validate fields (README.md).
 */
export function openApiV2Protobuf(version: string): Uint8Array {
  const info = [...field(1, utf8("Kubernetes")), ...field(2, utf8(version))];
  return new Uint8Array([...field(1, utf8("2.0")), ...field(2, info)]);
}

export function openApiV2Json(version: string): object {
  return { swagger: "2.0", info: { title: "Kubernetes", version }, paths: {}, definitions: {} };
}
