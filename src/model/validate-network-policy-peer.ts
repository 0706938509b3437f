import { type Cidr, networkOf, parseCidr } from "./cidr.ts";
import type { FieldErrors } from "./field-errors.ts";
import type { IPBlock, NetworkPolicyPeer } from "./k8s-resources.ts";
import { readFields } from "./read-fields.ts";
import { validateLabelSelector } from "./validate-label-selector.ts";

/**
 * One entry of `from`/`to`: at least one of podSelector, namespaceSelector, ipBlock; ipBlock
 * alone. Both selectors in ONE entry is their AND and is kept exactly as written (two entries
 * would be an OR: the YAML distinction users trip over).
 */
export function validateNetworkPolicyPeer(raw: unknown, path: string, errs: FieldErrors): NetworkPolicyPeer {
  const o = readFields.object(raw, path, errs, ["podSelector", "namespaceSelector", "ipBlock"]);
  if (!o) return {};
  const out: NetworkPolicyPeer = {};
  // A null field (`podSelector:` with nothing after it in YAML) is absent, as in the API server.
  if (o.podSelector != null)
    out.podSelector = validateLabelSelector(o.podSelector, `${path}.podSelector`, errs);
  if (o.namespaceSelector != null) {
    out.namespaceSelector = validateLabelSelector(o.namespaceSelector, `${path}.namespaceSelector`, errs);
  }
  if (o.ipBlock != null) out.ipBlock = ipBlock(o.ipBlock, `${path}.ipBlock`, errs);
  const set = Object.keys(out).length;
  if (set === 0) {
    errs.add(path, "must specify a peer (podSelector, namespaceSelector or ipBlock)");
  } else if (out.ipBlock && set > 1) {
    errs.add(path, "may not specify both ipBlock and another peer (podSelector or namespaceSelector)");
  }
  return out;
}

function ipBlock(raw: unknown, path: string, errs: FieldErrors): IPBlock {
  const o = readFields.object(raw, path, errs, ["cidr", "except"]) ?? {};
  const cidrText = readFields.string(o.cidr, `${path}.cidr`, errs) ?? "";
  // Host bits are legal here (upstream e2e uses `<podIP>/4`): kept as written, the compiler masks.
  const cidr = o.cidr === undefined ? undefined : parse(cidrText, `${path}.cidr`, errs);
  const out: IPBlock = { cidr: cidrText };
  const except = readFields.list(o.except, `${path}.except`, errs);
  if (except) {
    out.except = [];
    except.forEach((e, i) => {
      const f = `${path}.except[${i}]`;
      const text = readFields.string(e, f, errs);
      if (text === undefined) return;
      out.except!.push(text);
      const ex = parse(text, f, errs);
      if (cidr && ex && !strictlyInside(ex, cidr)) {
        errs.add(f, `${JSON.stringify(text)} must be a strict subset of cidr (${cidrText})`);
      }
    });
  }
  return out;
}

function parse(text: string, field: string, errs: FieldErrors): Cidr | undefined {
  try {
    return parseCidr(text, field);
  } catch {
    errs.add(field, `invalid value ${JSON.stringify(text)}: must be a CIDR (e.g. 10.0.0.0/16 or fd00::/64)`);
    return undefined;
  }
}

/** `inner` is a proper sub-range of `outer`: same family, longer prefix, its network inside. */
function strictlyInside(inner: Cidr, outer: Cidr): boolean {
  if (inner.ip.family !== outer.ip.family || inner.prefix <= outer.prefix) return false;
  const n = networkOf(inner);
  return networkOf({ ip: n, prefix: outer.prefix }).value === networkOf(outer).value;
}
