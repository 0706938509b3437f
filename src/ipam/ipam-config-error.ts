import { TartanError } from "../errors/tartan-error.ts";
import { InvalidValueError } from "../model/invalid-value.ts";

const DEFAULT_HINT = "fix the ipam section of the network config (the conflist in /etc/cni/net.d)";

/** A validation failure of the IPAM config: the message names the field and says why. */
export function ipamConfigError(field: string, reason: string, hint = DEFAULT_HINT): TartanError {
  return new TartanError("ipam-config-invalid", `${field}: ${reason}`, hint);
}

/** Runs a model parser, turning its InvalidValueError into an ipam-config-invalid TartanError. */
export function parseConfigField<T>(field: string, parse: (field: string) => T): T {
  try {
    return parse(field);
  } catch (e) {
    if (e instanceof InvalidValueError) throw ipamConfigError(e.field, e.reason);
    throw e;
  }
}
