import { parse, stringify } from "yaml";

export const REDACTED = "<redacted>";

// Keys whose value is a secret itself; `passwordFile`, `keyFile`, `certFile` name files and stay
// (the files are never read into a bundle).
const SECRET_KEY = /(pass(word|wd)?|secret|token|credential|private|api-?key|^key$|keyData|^auth$)/i;
const PATH_KEY = /(File|Path|Dir)$/;
const PEM = /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?-----END [A-Z0-9 ]+-----/g;
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** Strings may still hold a key pasted inline or a URL with user:password: those parts go. */
const redactString = (s: string): string => s.replace(PEM, REDACTED).replace(URL_USERINFO, `$1${REDACTED}@`);

function redactValue(v: unknown, key = ""): unknown {
  if (key && SECRET_KEY.test(key) && !PATH_KEY.test(key) && (typeof v !== "object" || v === null))
    return REDACTED;
  if (typeof v === "string") return redactString(v);
  if (Array.isArray(v)) return v.map((x) => redactValue(x));
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, redactValue(x, k)]));
  return v;
}

/**
 * An agent config (YAML or JSON) fit for a support ticket: values of secret-looking keys
 * (passwords, tokens, inline keys) replaced, PEM blocks and user:password in URLs removed from
 * every string. What cannot be parsed is redacted line by line instead, never passed through.
 */
export function redactConfig(text: string): string {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch {
    return `${text
      .replace(PEM, REDACTED)
      .split("\n")
      .map((line) => {
        const m = /^(\s*"?([\w.-]+)"?\s*[:=]\s*)(.*)$/.exec(line);
        if (m && SECRET_KEY.test(m[2]!) && !PATH_KEY.test(m[2]!)) return `${m[1]}${REDACTED}`;
        return redactString(line);
      })
      .join("\n")}`;
  }
  return stringify(redactValue(doc));
}
