/**
 * Codes of the node agent: its config and start-up, its block claims, its socket API's answers
 * (sent as `{code, message, hint}`), and the client's view of it (api/agent-client.ts).
 */
export const AGENT_ERROR_CODES = [
  "agent-config-invalid",
  "agent-config-unreadable",
  "agent-already-running",
  "agent-underlay-missing",
  "agent-underlay-no-address",
  "agent-wrong-network",
  "agent-no-pool",
  "agent-not-synced",
  "agent-bad-request",
  "agent-not-found",
  "agent-internal",
  /** GET /v1/policy on an agent whose policy enforcement is off. */
  "policy-off",
  /** POST /v1/pods: the pod's policy rules did not reach the kernel in time. */
  "policy-not-applied",
  /** The socket has no listener, refused the connection, or did not answer in time. */
  "agent-unreachable",
  /** The agent answered with an error whose code this build does not know. */
  "agent-error",
  /** GET /v1/bgp on an agent whose backend is not bgp / bgp-cross-subnet. */
  "bgp-off",
  /** `bird -p` refused a generated config (the running bird keeps its old one). */
  "bgp-config-invalid",
  /** bird could not be found, started, or reconfigured, or its control socket did not answer. */
  "bgp-bird-failed",
] as const;
export type AgentErrorCode = (typeof AGENT_ERROR_CODES)[number];
