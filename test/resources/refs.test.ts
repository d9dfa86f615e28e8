import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ref } from "../../src/resources/kind.js";
import { collectRefs, containsRef, knownOrUnknown, resolveProps } from "../../src/resources/refs.js";

const outputs = { api: { apiId: "a1" }, integration: { integrationId: "i9" } };

describe("resolveProps", () => {
  it("replaces Refs at any depth, honouring format", () => {
    const props = {
      apiId: ref("api", "apiId"),
      target: ref("integration", "integrationId", "integrations/{}"),
      nested: { list: [ref("api", "apiId", "arn:aws:execute-api:r:a:{}/*"), 3, "plain"] },
    };
    expect(resolveProps(props, outputs)).toEqual({
      resolved: true,
      value: { apiId: "a1", target: "integrations/i9", nested: { list: ["arn:aws:execute-api:r:a:a1/*", 3, "plain"] } },
    });
    expect(props.apiId).toEqual(ref("api", "apiId")); // input untouched
  });

  it("reports every missing Ref once", () => {
    const props = { a: ref("fn", "arn"), b: [ref("fn", "arn"), ref("api", "stage")], c: ref("api", "apiId") };
    expect(resolveProps(props, outputs)).toEqual({ resolved: false, missing: [ref("fn", "arn"), ref("api", "stage")] });
  });

  it("leaves values without Refs as they are", () => {
    const json = fc.jsonValue().filter((v) => !containsRef(v));
    fc.assert(
      fc.property(json, (v) => {
        expect(resolveProps(v, outputs)).toEqual({ resolved: true, value: v });
        expect(knownOrUnknown(v)).toEqual(v);
      }),
    );
  });

  it("shows Refs as known after apply", () => {
    expect(knownOrUnknown({ a: ref("api", "apiId"), b: "x" })).toEqual({ a: "(known after apply)", b: "x" });
    expect(collectRefs([ref("api", "apiId"), { x: ref("api", "apiId", "{}/x") }])).toEqual([ref("api", "apiId"), ref("api", "apiId", "{}/x")]);
  });
});
