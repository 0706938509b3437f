// The plugin's stdin readers: blocking read(2) through libc (readFdSync); VERSION's (the stream
// reader where that cannot go on, and the same text, limit and refusal as readCniStdin) and the
// other verbs' (node:fs's readSync where it cannot go on, with its errors, as before).
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_STDIN_BYTES, readCniStdin } from "../../src/cni/read-cni-stdin.ts";
import { readPluginStdin } from "../../src/cni/read-plugin-stdin.ts";
import { readVersionStdin } from "../../src/cni/read-version-stdin.ts";
import { readFdSync } from "../../src/exec/read-fd-sync.ts";

const dir = mkdtempSync(join(tmpdir(), "tt-read-fd-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
/** A file holding `bytes`, opened for reading: its fd (closed by the caller). */
function fdOf(bytes: Uint8Array | string): number {
  const path = join(dir, `f${n++}`);
  writeFileSync(path, bytes);
  return openSync(path, "r");
}

/** A FIFO opened read-write and non-blocking, holding `first`: reading past it gives EAGAIN. */
function nonBlockingFifo(first: Uint8Array): number {
  const path = join(dir, `p${n++}`);
  expect(Bun.spawnSync(["mkfifo", path]).exitCode).toBe(0);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  writeSync(fd, first);
  return fd;
}

const streamOf = (...parts: Uint8Array[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
const noStream = () => streamOf();

describe("readFdSync", () => {
  test("reads a file to its end, over several reads", () => {
    const big = new Uint8Array(200_000).map((_, i) => i % 251);
    const fd = fdOf(big);
    try {
      const r = readFdSync(fd, 1 << 20);
      expect(r?.end).toBe("eof");
      expect(r?.bytes).toEqual(big);
      // nothing left: a second read is at end of input at once
      expect(readFdSync(fd, 1 << 20)).toEqual({ bytes: new Uint8Array(0), end: "eof" });
    } finally {
      closeSync(fd);
    }
  });

  test("stops past the limit, holding at most one read beyond it", () => {
    const fd = fdOf(new Uint8Array(300_000).fill(0x20));
    try {
      const r = readFdSync(fd, 100_000);
      expect(r?.end).toBe("limit");
      expect(r?.bytes.length).toBeGreaterThan(100_000);
      expect(r?.bytes.length).toBeLessThanOrEqual(100_000 + 64 * 1024);
    } finally {
      closeSync(fd);
    }
  });

  test("a failed read ends it as failed, with what came before", () => {
    // -1: never an open fd (read(2) fails with EBADF)
    expect(readFdSync(-1, 10)).toEqual({ bytes: new Uint8Array(0), end: "failed" });
    const fd = nonBlockingFifo(new TextEncoder().encode("abc"));
    try {
      const r = readFdSync(fd, 10);
      expect(r?.end).toBe("failed");
      expect(new TextDecoder().decode(r?.bytes)).toBe("abc");
    } finally {
      closeSync(fd);
    }
  });
});

describe("readVersionStdin", () => {
  test("the same text as readCniStdin, a byte-order mark and bad UTF-8 included", async () => {
    const bytes = Uint8Array.from([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode('{"cniVersion":"é"}'),
      0xff,
    ]);
    const fd = fdOf(bytes);
    try {
      const text = await readVersionStdin(fd, noStream);
      expect(text).toBe(await readCniStdin(streamOf(bytes)));
      expect(text).toBe('{"cniVersion":"é"}\uFFFD');
    } finally {
      closeSync(fd);
    }
  });

  test("refuses stdin past the limit, as readCniStdin does", async () => {
    const fd = fdOf("x".repeat(5000));
    try {
      await expect(readVersionStdin(fd, noStream, 4096)).rejects.toMatchObject({
        code: "cni-stdin-too-large",
        message: "network config on stdin is larger than 4096 bytes",
      });
    } finally {
      closeSync(fd);
    }
  });

  test("a non-blocking stdin: the stream reader reads the rest, a character split across both", async () => {
    const all = new TextEncoder().encode('{"cniVersion":"0.4.0","x":"é"}');
    const cut = all.length - 3; // inside the two bytes of "é"
    const fd = nonBlockingFifo(all.subarray(0, cut));
    try {
      expect(await readVersionStdin(fd, () => streamOf(all.subarray(cut)))).toBe(
        new TextDecoder().decode(all),
      );
    } finally {
      closeSync(fd);
    }
    // and the limit counts both parts
    const fd2 = nonBlockingFifo(new Uint8Array(3000).fill(0x20));
    try {
      await expect(
        readVersionStdin(fd2, () => streamOf(new Uint8Array(2000).fill(0x20)), 4096),
      ).rejects.toMatchObject({ message: "network config on stdin is larger than 4096 bytes" });
    } finally {
      closeSync(fd2);
    }
  });

  test("a stdin that cannot be read at all: the stream reader answers", async () => {
    expect(await readVersionStdin(-1, () => streamOf(new TextEncoder().encode('{"a":1}')))).toBe('{"a":1}');
  });
});

describe("readPluginStdin", () => {
  test("the text as before: UTF-8 through Buffer, a byte-order mark kept (JSON.parse refuses it)", async () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"cniVersion":"é"}')]);
    const fd = fdOf(bytes);
    try {
      expect(await readPluginStdin(fd, noStream)).toBe('\uFEFF{"cniVersion":"é"}');
    } finally {
      closeSync(fd);
    }
    const big = fdOf("x".repeat(MAX_STDIN_BYTES + 1));
    try {
      await expect(readPluginStdin(big, noStream)).rejects.toMatchObject({ code: "cni-stdin-too-large" });
    } finally {
      closeSync(big);
    }
  });

  test("a non-blocking stdin: the stream reader when nothing came yet, EAGAIN after a part", async () => {
    const empty = nonBlockingFifo(new Uint8Array(0));
    try {
      const text = await readPluginStdin(empty, () => streamOf(new TextEncoder().encode('{"a":1}')));
      expect(text).toBe('{"a":1}');
    } finally {
      closeSync(empty);
    }
    const part = nonBlockingFifo(new TextEncoder().encode('{"a":'));
    try {
      await expect(readPluginStdin(part, noStream)).rejects.toMatchObject({ code: "EAGAIN" });
    } finally {
      closeSync(part);
    }
  });
});
