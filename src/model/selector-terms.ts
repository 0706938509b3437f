/**
 * Splits a selector string (kubectl's `-l` syntax, or a `fieldSelector`) on the commas outside
 * parentheses: `a in (x,y),b` → [`a in (x,y)`, `b`]. A trailing comma yields an empty last term,
 * so the caller refuses it rather than silently reading `a,` as `a`.
 */
export function splitSelectorTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of text) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += c;
  }
  if (cur.trim() || out.length) out.push(cur.trim());
  return out;
}
