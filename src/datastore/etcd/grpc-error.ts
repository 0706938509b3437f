/** gRPC status codes tartan tells apart (the rest keep their number). */
export const GRPC = {
  cancelled: 1,
  unknown: 2,
  invalidArgument: 3,
  deadlineExceeded: 4,
  permissionDenied: 7,
  failedPrecondition: 9,
  outOfRange: 11,
  unavailable: 14,
  unauthenticated: 16,
} as const;

const NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

/**
 * A failed gRPC call: the status etcd answered with (its message in `details`, e.g. "etcdserver:
 * mvcc: required revision has been compacted"), or UNAVAILABLE / DEADLINE_EXCEEDED when nobody
 * answered, `details` then saying what the connection saw ("connect ECONNREFUSED …", a TLS
 * alert). etcd-error.ts turns it into the TartanError a user reads.
 */
export class GrpcError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
    options?: { cause?: unknown },
  ) {
    super(`${code} ${NAMES[code] ?? "STATUS"}: ${details}`, options);
    this.name = "GrpcError";
  }
}
