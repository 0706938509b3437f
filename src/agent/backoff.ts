/**
 * Exponential backoff with full jitter for datastore retries: many agents losing etcd at the same
 * moment must not come back at the same moment. attempt 0 → up to initialMs.
 */
export function backoffMs(attempt: number, initialMs = 200, maxMs = 30_000, random = Math.random): number {
  const cap = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(initialMs / 2, Math.floor(random() * cap));
}
