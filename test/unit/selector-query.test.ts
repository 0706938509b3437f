import { describe, expect, test } from "bun:test";
import { parseSelector } from "../../src/cli/parse-selector.ts";
import { ApiError } from "../../src/lab/kube-apiserver/api-error.ts";
import { parseFieldSelector, parseLabelSelector } from "../../src/lab/kube-apiserver/selector-query.ts";
import { splitSelectorTerms } from "../../src/model/selector-terms.ts";

describe("the stand-in API server's selectors read the syntax as the CLI does", () => {
  test("labelSelector: every operator, with kube's semantics for missing keys", () => {
    const m = parseLabelSelector("app=web,tier!=db,env in (prod, stage),owner,!legacy");
    expect(m({ app: "web", env: "prod", owner: "x" })).toBe(true);
    expect(m({ app: "web", env: "prod", owner: "x", tier: "fe" })).toBe(true);
    expect(m({ app: "web", env: "prod", owner: "x", tier: "db" })).toBe(false);
    expect(m({ app: "web", env: "dev", owner: "x" })).toBe(false);
    expect(m({ app: "web", env: "prod" })).toBe(false);
    expect(m({ app: "web", env: "prod", owner: "x", legacy: "" })).toBe(false);
    expect(m(undefined)).toBe(false);
    expect(parseLabelSelector(null)(undefined)).toBe(true);
    expect(parseLabelSelector("  ")({ a: "b" })).toBe(true);
  });

  test("the same key twice with = asks for both values (nothing matches), in the CLI too", () => {
    expect(parseLabelSelector("a=x,a=y")({ a: "x" })).toBe(false);
    expect(parseLabelSelector("a=x,a=y")({ a: "y" })).toBe(false);
    expect(parseLabelSelector("a=x,a==x")({ a: "x" })).toBe(true);
    expect(parseSelector("a=x,a=y")).toEqual({
      matchLabels: { a: "x" },
      matchExpressions: [{ key: "a", operator: "In", values: ["y"] }],
    });
  });

  test("a selector that does not parse is a 400 BadRequest naming the term", () => {
    for (const bad of ["a=b,(oops", "a=b,", "=x"]) {
      let err: unknown;
      try {
        parseLabelSelector(bad);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).message).toContain("unable to parse requirement");
    }
  });

  test("fieldSelector uses the same term splitting and refuses unknown fields", () => {
    const f = parseFieldSelector("metadata.name=a,spec.nodeName!=n1", ["spec.nodeName"], "Pod");
    expect(f({ metadata: { name: "a" }, spec: { nodeName: "n2" } })).toBe(true);
    expect(f({ metadata: { name: "a" }, spec: { nodeName: "n1" } })).toBe(false);
    expect(() => parseFieldSelector("spec.other=x", [], "Pod")).toThrow(
      '"spec.other" is not a known field selector',
    );
    expect(splitSelectorTerms("a in (x,y),b")).toEqual(["a in (x,y)", "b"]);
    expect(splitSelectorTerms("a,")).toEqual(["a", ""]);
  });
});
