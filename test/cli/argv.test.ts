import { describe, expect, it } from "vitest";
import { joinOptionValues } from "../../src/cli/argv.js";

describe("--local's value as the next word", () => {
  it("takes a port or a URL after --local as its value", () => {
    expect(joinOptionValues(["status", "--local", "4510", "-f", "chat.yaml"])).toEqual(["status", "--local=4510", "-f", "chat.yaml"]);
    expect(joinOptionValues(["connections", "list", "t", "--local", "http://127.0.0.1:4566"])).toEqual(["connections", "list", "t", "--local=http://127.0.0.1:4566"]);
  });

  it("leaves what cannot be a dev server's port to the positionals", () => {
    // `lambda logs <name> [minutes]`: 10 minutes, the running dev server.
    expect(joinOptionValues(["lambda", "logs", "fn", "--local", "10"])).toEqual(["lambda", "logs", "fn", "--local", "10"]);
    expect(joinOptionValues(["status", "--local", "my-stack"])).toEqual(["status", "--local", "my-stack"]);
    expect(joinOptionValues(["status", "--local", "70000"])).toEqual(["status", "--local", "70000"]);
    expect(joinOptionValues(["status", "--local=4510"])).toEqual(["status", "--local=4510"]);
  });

  it("does not touch words after --", () => {
    expect(joinOptionValues(["connection", "send", "--", "--local", "4510"])).toEqual(["connection", "send", "--", "--local", "4510"]);
  });
});
