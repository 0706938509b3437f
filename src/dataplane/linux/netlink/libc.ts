import { dlopen, FFIType, read } from "bun:ffi";

/** The few libc calls the netlink driver needs; each returns what the C function returns. */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  /** `path` must end with a NUL byte. */
  open(path: Uint8Array, flags: number): number;
  close(fd: number): number;
  setns(fd: number, nstype: number): number;
  /** errno of the last failed call on this thread (read right after it, before any other call). */
  errno(): number;
  strerror(errnum: number): string;
}

let loaded: Libc | null | undefined;

/**
 * libc through bun:ffi, opened on first use (~0.2 ms, also inside the compiled executable), or
 * undefined where it cannot be opened (not glibc, not Linux): callers then use iproute2.
 */
export function libc(): Libc | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  loaded = null;
  if (process.platform !== "linux") return undefined;
  try {
    const { symbols: s } = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      setsockopt: {
        args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.u32],
        returns: FFIType.i32,
      },
      send: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
      recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
      open: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
      setns: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      __errno_location: { args: [], returns: FFIType.ptr },
      strerror: { args: [FFIType.i32], returns: FFIType.cstring },
    });
    loaded = {
      socket: (d, t, p) => s.socket(d, t, p),
      setsockopt: (fd, level, name, value, len) => s.setsockopt(fd, level, name, value, len),
      send: (fd, buf, len, flags) => Number(s.send(fd, buf, len, flags)),
      recv: (fd, buf, len, flags) => Number(s.recv(fd, buf, len, flags)),
      open: (path, flags) => s.open(path, flags),
      close: (fd) => s.close(fd),
      setns: (fd, nstype) => s.setns(fd, nstype),
      errno: () => {
        const p = s.__errno_location();
        return p === null ? 0 : read.i32(p, 0);
      },
      strerror: (n) => String(s.strerror(n)),
    };
  } catch {
    loaded = null;
  }
  return loaded ?? undefined;
}
