import { describe, expect, test } from "bun:test";
import { formatIp, isIpv4Text, parseIp } from "../../src/model/ip.ts";

// The rules parseIp had before its dotted-quad path was written by hand (split, a regex per part,
// bigint shifts): the hand-written one must accept and refuse exactly the same texts.
function referenceV4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p.startsWith("0"))) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

const v4OrUndefined = (text: string): bigint | undefined => {
  try {
    const ip = parseIp(text);
    return ip.family === 4 ? ip.value : undefined;
  } catch {
    return undefined;
  }
};

describe("IPv4 text", () => {
  test("edge texts are judged as before", () => {
    const texts = [
      "0.0.0.0",
      "255.255.255.255",
      "10.244.1.7",
      "256.1.1.1",
      "1.1.1.256",
      "01.1.1.1",
      "1.1.1.00",
      "1.1.1.0",
      "1.1.1",
      "1.1.1.1.1",
      ".1.1.1",
      "1.1.1.",
      "1..1.1",
      "1.1.1.1a",
      "a1.1.1.1",
      "1000.1.1.1",
      "1.1.1.-1",
      "١.1.1.1",
      "",
      "1.2.3.4 ",
      " 1.2.3.4",
    ];
    for (const t of texts) expect([t, v4OrUndefined(t)]).toEqual([t, referenceV4(t.trim())]);
  });

  test("random texts over digits and dots are judged as before", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const alphabet = "0123456789.0125.x";
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const len = 1 + rnd(16);
      let t = "";
      for (let j = 0; j < len; j++) t += alphabet[rnd(alphabet.length)];
      const want = referenceV4(t);
      if (want !== undefined) accepted++;
      if (v4OrUndefined(t) !== want) expect([t, v4OrUndefined(t)]).toEqual([t, want]);
    }
    // Also well-formed quads, so the accepting side is exercised as much as the refusing one.
    for (let i = 0; i < 5000; i++) {
      const t = [rnd(300), rnd(300), rnd(300), rnd(300)].join(".");
      const want = referenceV4(t);
      if (want !== undefined) accepted++;
      expect(v4OrUndefined(t)).toBe(want);
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  test("isIpv4Text: exactly the untrimmed texts parseIp reads as IPv4, each its own canonical text", () => {
    let seed = 11;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const texts = [
      "10.0.0.1",
      " 10.0.0.1",
      "10.0.0.1 ",
      "010.0.0.1",
      "fd00::1",
      "::ffff:1.2.3.4",
      "1.2.3",
      "",
    ];
    for (let i = 0; i < 20000; i++) {
      let t = "";
      for (let j = 1 + rnd(16); j > 0; j--) t += "0123456789.0125.x"[rnd(17)];
      texts.push(t, [rnd(300), rnd(300), rnd(300), rnd(300)].join("."));
    }
    let yes = 0;
    for (const t of texts) {
      const want = t.trim() === t && v4OrUndefined(t) !== undefined;
      if (isIpv4Text(t) !== want) expect([t, isIpv4Text(t)]).toEqual([t, want]);
      if (want) {
        yes++;
        expect(formatIp(parseIp(t))).toBe(t);
      }
    }
    expect(yes).toBeGreaterThan(1000);
  });

  test("formatting gives the dotted quad of the value", () => {
    for (const t of ["0.0.0.0", "255.255.255.255", "10.244.128.1", "192.168.0.255", "1.2.3.4"]) {
      expect(formatIp(parseIp(t))).toBe(t);
    }
    expect(formatIp({ family: 4, value: 0x0a000001n })).toBe("10.0.0.1");
    expect(formatIp({ family: 4, value: 0xffffffffn })).toBe("255.255.255.255");
  });
});
