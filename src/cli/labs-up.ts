import { readdirSync, readFileSync } from "node:fs";
import type { EtcdTlsFiles } from "../datastore/open-datastore.ts";
import { TartanError } from "../errors/tartan-error.ts";
import { requireRoot } from "./require-root.ts";

// The lab's state directory (src/lab/lab-paths.ts owns the layout; the CLI layer sits below the
// lab and cannot import it, so it reads the one file it needs, the way kubectl reads a kubeconfig).
export const LAB_ROOT_DEFAULT = "/run/tartan-lab";

export const labRoot = () => process.env.TARTAN_LAB_ROOT || LAB_ROOT_DEFAULT;

/** The fields of /run/tartan-lab/<lab>/lab.json the CLI reads (a subset of the lab's LabState). */
export interface LabDatastoreFields {
  name: string;
  fabric: { netns: string };
  /** The lab's etcd; `tls`: the lab CA and its client certificate (labs up before TLS have none). */
  etcd?: { endpoint: string; tls?: EtcdTlsFiles };
  /** A lab in Kubernetes mode (`lab up --datastore kubernetes`): its API server's kubeconfig. */
  kubeApi?: { kubeconfig: string };
}

/** Lab state is root's (0700): a non-root reader is told so, not that no lab is up. */
function deniedToRoot(e: unknown, path: string): void {
  if ((e as NodeJS.ErrnoException).code === "EACCES") requireRoot(`reading ${path}`);
}

export function readLab(root: string, name: string): LabDatastoreFields | undefined {
  if (!/^[a-z0-9]{1,16}$/.test(name)) return undefined;
  const file = `${root}/${name}/lab.json`;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LabDatastoreFields;
  } catch (e) {
    deniedToRoot(e, file);
    return undefined;
  }
}

/** The labs that are up (have a state file), by name. */
export function labsUp(root = labRoot()): LabDatastoreFields[] {
  let names: string[] = [];
  try {
    names = readdirSync(root).sort();
  } catch (e) {
    deniedToRoot(e, root);
  }
  return names.map((n) => readLab(root, n)).filter((l): l is LabDatastoreFields => l !== undefined);
}

/**
 * The lab a command acts on: --lab NAME when given, else the one lab that is up. Several labs
 * up and none named is an error listing them (acting on the wrong cluster would be worse than
 * asking); none up gives undefined, and the caller says what that means for it.
 */
export function pickLab(given: string | undefined, root = labRoot()): string | undefined {
  if (given !== undefined) return given;
  const labs = labsUp(root);
  if (labs.length === 1) return labs[0]!.name;
  if (labs.length > 1) {
    throw new TartanError(
      "cli-usage",
      `${labs.length} labs are up (${labs.map((l) => l.name).join(", ")}): which one?`,
      "pick one with --lab NAME",
    );
  }
  return undefined;
}

/** pickLab, where no lab up is an error. */
export function requireLabName(given: string | undefined, root = labRoot()): string {
  const name = pickLab(given, root);
  if (name === undefined) {
    throw new TartanError(
      "lab-not-up",
      "no lab is up",
      "start one with tartan lab up, or name one with --lab NAME",
    );
  }
  return name;
}
