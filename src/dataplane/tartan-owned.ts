/**
 * The marks that tell tartan's kernel objects from everyone else's, so a restarted agent can diff
 * and sweep its own objects without flushing anything (felix's habit). Routes tartan writes carry
 * `routeProto` (cni/routed-mode.ts uses the same number for pod routes); the VXLAN device is
 * `vxlanDevice`.
 */
export const TARTAN_OWNED = {
  routeProto: 201,
  vxlanDevice: "tartan.vxlan",
} as const;
