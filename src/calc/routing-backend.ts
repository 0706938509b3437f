import type { RoutingBackendName } from "../model/routing-backend.ts";

/**
 * A routing backend's name (the names are declared once, in model/routing-backend.ts; the
 * backends themselves are in calc/backends/). Kept for the callers that import it from here.
 */
export type RoutingBackend = RoutingBackendName;
