// Whether this machine can open an SCTP socket at all: socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)
// through libc (Bun has no SCTP sockets of its own). Decided at run time, never assumed.
import { dlopen, FFIType, read } from "bun:ffi";

const AF_INET = 2;
const SOCK_STREAM = 1;
const IPPROTO_SCTP = 132;
const ERRNO_NAMES: Record<number, string> = {
  93: "EPROTONOSUPPORT",
  94: "ESOCKTNOSUPPORT",
  97: "EAFNOSUPPORT",
  1: "EPERM",
  13: "EACCES",
};

/** undefined when SCTP sockets work; otherwise why not (e.g. "socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) failed: EPROTONOSUPPORT"). */
export function sctpUnsupported(): string | undefined {
  const libc = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  try {
    const fd = libc.symbols.socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP);
    if (fd >= 0) {
      libc.symbols.close(fd);
      return undefined;
    }
    const errnoPtr = libc.symbols.__errno_location();
    const errno = errnoPtr ? read.i32(errnoPtr, 0) : -1;
    return `socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP) failed: ${ERRNO_NAMES[errno] ?? `errno ${errno}`} (this kernel has no SCTP)`;
  } finally {
    libc.close();
  }
}
