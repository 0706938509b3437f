/** One file of a tar archive. */
export interface TarEntry {
  /** Relative path, "/" separated, at most 100 bytes (ustar's name field). */
  path: string;
  content: string | Uint8Array;
  mode?: number;
}

const enc = new TextEncoder();

function header(path: string, size: number, mode: number, mtime: number): Uint8Array {
  const h = new Uint8Array(512);
  const put = (text: string, at: number, len: number) => h.set(enc.encode(text).subarray(0, len), at);
  const octal = (n: number, len: number) => `${n.toString(8).padStart(len - 1, "0")}\0`;
  put(path, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8); // uid
  put(octal(0, 8), 116, 8); // gid
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put("        ", 148, 8); // checksum counted as spaces
  put("0", 156, 1); // regular file
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return h;
}

/**
 * A gzip-compressed ustar archive of `entries` (regular files only), made in memory: a support
 * bundle is small and bounded, and no `tar` needs to be installed or spawned for it.
 */
export function tarGz(
  entries: readonly TarEntry[],
  mtime = Math.floor(Date.now() / 1000),
): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    if (enc.encode(e.path).length > 100) throw new Error(`tar: path too long: ${e.path}`);
    const data = typeof e.content === "string" ? enc.encode(e.content) : e.content;
    parts.push(header(e.path, data.length, e.mode ?? 0o600, mtime), data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(1024)); // two zero blocks end the archive
  const total = parts.reduce((n, p) => n + p.length, 0);
  const tar = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    tar.set(p, at);
    at += p.length;
  }
  return Bun.gzipSync(tar);
}

/** The files of a tar.gz made by tarGz (or any ustar of regular files): for tests and checks. */
export function untarGz(gz: Uint8Array<ArrayBuffer>): Map<string, string> {
  const tar = Bun.gunzipSync(gz);
  const dec = new TextDecoder();
  const out = new Map<string, string>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) break;
    const field = (from: number, len: number) =>
      dec.decode(h.subarray(from, from + len)).replace(/\0.*$/s, "");
    const name = field(0, 100);
    const size = Number.parseInt(field(124, 12).trim(), 8);
    out.set(name, dec.decode(tar.subarray(at + 512, at + 512 + size)));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
