/** A failed API request: the HTTP status and the `Status` object the API server answered with. */
export class KubeStatusError extends Error {
  constructor(
    readonly code: number,
    /** The Status' reason: AlreadyExists, Conflict, NotFound, Expired, Gone, Forbidden, Invalid, … */
    readonly reason: string,
    message: string,
    /** Retry-After in seconds (429, 503), if the server gave one. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "KubeStatusError";
  }
}

interface StatusBody {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** The KubeStatusError of a non-2xx answer whose body was `text` (a Status, or anything else). */
export function kubeStatusError(
  httpStatus: number,
  text: string,
  what: string,
  retryAfter?: string | null,
): KubeStatusError {
  let body: StatusBody = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object") body = parsed as StatusBody;
  } catch {}
  const code = typeof body.code === "number" && body.code > 0 ? body.code : httpStatus;
  const reason = typeof body.reason === "string" && body.reason ? body.reason : `HTTP ${httpStatus}`;
  const msg = typeof body.message === "string" && body.message ? body.message : text.slice(0, 200).trim();
  const ra = retryAfter ? Number(retryAfter) : undefined;
  return new KubeStatusError(
    code,
    reason,
    `${what}: ${code} ${reason}${msg ? `: ${msg}` : ""}`,
    Number.isFinite(ra) ? ra : undefined,
  );
}

/** The error of a watch ERROR event (its object is a Status). */
export function watchStatusError(object: unknown, what: string): KubeStatusError {
  const s = (object && typeof object === "object" ? object : {}) as StatusBody;
  const code = typeof s.code === "number" ? s.code : 500;
  return new KubeStatusError(
    code,
    s.reason ?? "Unknown",
    `${what}: ${code} ${s.reason ?? ""} ${s.message ?? ""}`.trim(),
  );
}
