import { describe, expect, it } from "vitest";
import { joinOptionValues } from "../../src/cli/argv.js";

const devOn4510 = (port: number): boolean => port === 4510;

describe("--local's value as the next word", () => {
  it("takes a dev server's port or a URL after --local as its value", () => {
    expect(joinOptionValues(["status", "--local", "4510", "-f", "chat.yaml"], devOn4510)).toEqual(["status", "--local=4510", "-f", "chat.yaml"]);
    expect(joinOptionValues(["connections", "list", "t", "--local", "http://127.0.0.1:4566"], devOn4510)).toEqual(["connections", "list", "t", "--local=http://127.0.0.1:4566"]);
  });

  it("leaves other words, and numbers no dev server listens on, to the positionals", () => {
    // `lambda logs <name> [minutes]`: the last day, from the running dev server.
    expect(joinOptionValues(["lambda", "logs", "fn", "--local", "1440"], devOn4510)).toEqual(["lambda", "logs", "fn", "--local", "1440"]);
    expect(joinOptionValues(["status", "--local", "my-stack"], devOn4510)).toEqual(["status", "--local", "my-stack"]);
    expect(joinOptionValues(["status", "--local", "70000"], () => true)).toEqual(["status", "--local", "70000"]);
    expect(joinOptionValues(["status", "--local=4510"], devOn4510)).toEqual(["status", "--local=4510"]);
  });

  it("does not touch words after --", () => {
    expect(joinOptionValues(["connection", "send", "--", "--local", "4510"], devOn4510)).toEqual(["connection", "send", "--", "--local", "4510"]);
  });
});
