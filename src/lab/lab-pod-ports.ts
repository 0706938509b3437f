import { TartanError } from "../errors/tartan-error.ts";
import type { Protocol } from "../model/k8s-resources.ts";

export interface LabPodPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
}

/**
 * `--ports http:8080/TCP,dns:53/udp,9000`: the pod's container ports (`[name:]port[/proto]`,
 * protocol TCP by default), which is what NetworkPolicy named ports resolve against.
 * The names are checked when the Pod object is validated.
 */
export function parseLabPodPorts(text: string | undefined): LabPodPort[] {
  return (text ?? "")
    .split(",")
    .filter(Boolean)
    .map((item) => {
      const m = /^(?:([^:/]+):)?(\d+)(?:\/([A-Za-z]+))?$/.exec(item);
      const proto = (m?.[3] ?? "TCP").toUpperCase();
      if (!m || (proto !== "TCP" && proto !== "UDP" && proto !== "SCTP")) {
        throw new TartanError(
          "cli-usage",
          `port "${item}" is not [name:]port[/TCP|UDP|SCTP]`,
          "e.g. --ports http:8080/TCP,dns:53/UDP",
        );
      }
      const port: LabPodPort = { containerPort: Number(m[2]), protocol: proto };
      if (m[1]) port.name = m[1];
      return port;
    });
}
