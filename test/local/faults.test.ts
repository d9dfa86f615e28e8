import { describe, expect, it } from "vitest";
import { DroppedConnection, FaultInjector } from "../../src/local/faults.js";

async function outcome(inj: FaultInjector, service: string, op: string): Promise<string> {
  try {
    await inj.before(service, op, {});
    return "ok";
  } catch (err) {
    return (err as Error).name;
  }
}

describe("FaultInjector", () => {
  it("fails exactly the Nth matching call, and only that operation", async () => {
    const inj = new FaultInjector({ rules: [{ service: "lambda", operation: "CreateFunction", nth: 2, error: { name: "ThrottlingException" } }] });
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await outcome(inj, "lambda", "CreateFunction"));
    expect(seen).toEqual(["ok", "ThrottlingException", "ok", "ok"]);
    expect(await outcome(inj, "lambda", "GetFunction")).toBe("ok");
    expect(await outcome(inj, "iam", "CreateFunction")).toBe("ok");
  });

  it("fails repeatedly when asked to", async () => {
    const inj = new FaultInjector({ rules: [{ operation: "CreateRole", nth: 1, times: 3, error: { name: "Throttling" } }] });
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push(await outcome(inj, "iam", "CreateRole"));
    expect(seen).toEqual(["Throttling", "Throttling", "Throttling", "ok", "ok"]);
  });

  it("is reproducible for a seed and differs across seeds", async () => {
    const run = async (seed: number) => {
      const inj = new FaultInjector({ seed, rules: [{ probability: 0.3, error: { name: "InternalFailure", status: 500 } }] });
      const seen = [];
      for (let i = 0; i < 40; i++) seen.push(await outcome(inj, "apigatewayv2", "GetApis"));
      return seen.join(",");
    };
    expect(await run(7)).toBe(await run(7));
    expect(await run(7)).not.toBe(await run(8));
    expect((await run(7)).split(",").filter((s) => s !== "ok").length).toBeGreaterThan(3);
  });

  it("drops connections with an error the front door recognises", async () => {
    const inj = new FaultInjector({ rules: [{ operation: "PutRolePolicy", drop: true }] });
    await expect(inj.before("iam", "PutRolePolicy", {})).rejects.toBeInstanceOf(DroppedConnection);
    expect(inj.injected).toEqual([{ service: "iam", operation: "PutRolePolicy", kind: "drop" }]);
  });
});

describe("parseFaultConfig", () => {
  it("accepts a valid file and says precisely what is wrong with a bad one", async () => {
    const { parseFaultConfig } = await import("../../src/local/faults.js");
    expect(parseFaultConfig('{"seed":3,"rules":[{"service":"lambda","probability":0.2,"error":{"name":"ThrottlingException"}}]}', "f.json").rules).toHaveLength(1);
    expect(() => parseFaultConfig("{", "f.json")).toThrow(/f\.json: not valid JSON/);
    expect(() => parseFaultConfig('{"rules":[{"operaton":"X","drop":true}]}', "f.json")).toThrow('f.json: rules[0]: unknown key "operaton"');
    expect(() => parseFaultConfig('{"rules":[{"probability":2,"drop":true}]}', "f.json")).toThrow("rules[0].probability must be a number from 0 to 1");
    expect(() => parseFaultConfig('{"rules":[{"service":"iam"}]}', "f.json")).toThrow("injects nothing");
  });
});
