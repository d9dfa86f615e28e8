import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { nearest } from "../../src/cli/help.js";
import { runCli } from "../support/cloud.js";

const version = (JSON.parse(readFileSync(resolve(import.meta.dirname, "../../package.json"), "utf8")) as { version: string }).version;

describe("chatctl help", () => {
  it("--help lists every command by task, grouped names beside the original script's, with value names", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("#0");
    expect(r.stdout).toMatch(/^ {2}ws list {2,}ws-list {2,}List the WebSocket APIs of the region$/m);
    expect(r.stdout).toMatch(/^ {2}init \[DIR\] {2,}Create a new chat project/m);
    expect(r.stdout.replace(version, "VERSION")).toMatchSnapshot();
  });

  it("chatctl with no arguments shows the same overview", async () => {
    expect((await runCli([])).stdout).toBe((await runCli(["--help"])).stdout);
  });

  it("every group lists its subcommands with --help, or alone", async () => {
    const ws = await runCli(["ws", "--help"]);
    expect(ws.code).toBe(0);
    expect(ws.stdout).toMatchSnapshot();
    for (const group of ["ws", "connections", "connection", "lambda", "dynamodb"]) {
      const r = await runCli([group, "--help"]);
      expect(r.code, group).toBe(0);
      expect(r.stdout, group).toMatch(new RegExp(`^ {2}${group} [a-z-]+`, "m"));
      expect((await runCli([group])).stdout, group).toBe(r.stdout);
    }
  });

  it("a command's own help names each option's value", async () => {
    const dev = await runCli(["dev", "--help"]);
    expect(dev.stdout).toMatch(/^ {2}--port PORT {2,}Port for every service/m);
    expect(dev.stdout).toMatch(/^ {2}--region REGION {2,}AWS region/m);
    expect(dev.stdout).toMatch(/^ {2}-f,--file FILE {2,}/m);
    expect(dev.stdout).not.toContain("#0");
    // The descriptions stay in one column after the names are put in.
    const columns = dev.stdout.split("\n").filter((l) => /^ {2}-/.test(l)).map((l) => /^ {2}\S.*? {4}(?=\S)/.exec(l)?.[0].length);
    expect(new Set(columns).size).toBe(1);
  });

  it("a typo suggests the nearest command and exits 1, on one line", async () => {
    const r = await runCli(["ws-lst"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatchSnapshot();
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect((await runCli(["ws", "lst"])).stderr).toContain("did you mean ws list?");
    const nothing = await runCli(["frobnicate"]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).not.toContain("did you mean");
  });

  it("suggests one or two names, the nearest only", () => {
    expect(nearest("ws-lst", ["ws-list", "ws list", "ws-delete", "plan"])).toEqual(["ws-list"]);
    expect(nearest("lambda-lgs", ["lambda-logs", "lambda-create"])).toEqual(["lambda-logs"]);
    expect(nearest("dynamodb-scn", ["dynamodb-scan", "dynamodb-create"])).toEqual(["dynamodb-scan"]);
    expect(nearest("ws-", ["ws-list", "ws-create"])).toEqual([]);
  });

  it("--version prints the version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  });

  it("wrong arguments to a known command name the values and exit 1", async () => {
    const r = await runCli(["ws-get-url"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error: chatctl ws get-url takes <api-id> [stage]; it is missing");
    expect(r.stderr).toContain("[--region REGION]");
  });

  it("--help or -h after some arguments shows that command's help, as right after its name", async () => {
    const plain = await runCli(["ws", "get-url", "--help"]);
    expect(plain.stdout).toContain("Print the URL clients connect to");
    for (const args of [["ws", "get-url", "a1b2c3d4e5", "--help"], ["ws-get-url", "a1b2c3d4e5", "prod", "-h"]]) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout, args.join(" ")).toBe(plain.stdout);
    }
    const init = await runCli(["init", "some-dir", "--help"]);
    expect(init.code).toBe(0);
    expect(init.stderr).not.toContain("Command not found");
    expect(init.stdout).toBe((await runCli(["init", "--help"])).stdout);
  });

  it("an option the command does not have is named, with the nearest ones, and exits 1", async () => {
    const cases: Array<[string[], string]> = [
      [["plan", "-f", "chat.yaml", "--regoin", "us-east-1"], "error: chatctl plan has no option --regoin; did you mean --region?"],
      [["dev", "--no-wach"], "error: chatctl dev has no option --no-wach; did you mean --no-watch?"],
      [["lambda-logs", "fn", "--folow"], "error: chatctl lambda logs has no option --folow; did you mean --follow?"],
      [["ws", "list", "--zzzzzz"], "error: chatctl ws list has no option --zzzzzz\n"],
    ];
    for (const [args, line] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stderr, args.join(" ")).toContain(line);
      expect(r.stderr, args.join(" ")).not.toContain("Unknown Syntax Error");
    }
  });

  it("a command given too few arguments shows what it takes and an example to run, under either name", async () => {
    for (const name of [["ws", "delete"], ["ws-delete"]]) {
      const r = await runCli([...name, "--local"]);
      expect(r.code, name.join(" ")).toBe(1);
      expect(r.stderr, name.join(" ")).not.toContain("Unknown Syntax Error");
      expect(r.stderr, name.join(" ")).toContain("chatctl ws delete takes <api-id>; it is missing");
      expect(r.stderr, name.join(" ")).toMatch(/^ {2}chatctl ws delete a1b2c3d4e5$/m);
      expect(r.stderr, name.join(" ")).toContain("chatctl ws delete --help");
    }
    const send = await runCli(["connection", "send", "a1b2c3d4e5"]);
    expect(send.stderr).toContain("takes <api-id|stack> <stage|connection-id> <connection-id|message> [message]; some are missing");
  });
});
