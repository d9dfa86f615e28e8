import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpecText } from "../../src/spec/loader.js";
import { HANDLER_STUB, TempProject, VALID, find, problems, where } from "./helpers.js";

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

describe("references between sections", () => {
  it("reports a route naming a missing function, listing the defined ones", async () => {
    const diag = find(problems(await project.load(VALID.replace("$default: default", "$default: defualt"))), "no function");
    expect(diag.summary).toBe('routes.$default: no function named "defualt" (did you mean "default"?)');
    expect(diag.detail).toBe("defined functions: connect, default");
    expect(where(diag)).toBe("4:13");
  });

  it("reports a function using a missing table, at the list item", async () => {
    const diag = find(problems(await project.load(VALID.replace("tables: [connections]", "tables: [connections, messages]"))), "no table");
    expect(diag.summary).toBe('functions.connect.tables[1]: no table named "messages"');
    expect(diag.detail).toBe("defined tables: connections");
    expect(where(diag)).toBe("8:27");
  });

  it("says so when no tables are defined at all", async () => {
    const text = VALID.slice(0, VALID.indexOf("tables:\n  connections"));
    expect(find(problems(await project.load(text)), "no table").detail).toBe("no tables are defined under tables:");
  });

  it("needs at least one route", async () => {
    const text = "stack: my-chat\nroutes: {}\nfunctions:\n  default: { handler: ../handlers/default.ts }\n";
    const diags = problems(await project.load(text));
    expect(where(find(diags, "at least one route"))).toBe("2:1");
  });
});

describe("handler files", () => {
  it("reports a missing handler file with the path it looked for", async () => {
    const diag = find(problems(await project.load(VALID.replace("default.ts", "missing.ts"))), "not found");
    expect(diag.summary).toBe("functions.default.handler: handler file not found: ../handlers/missing.ts");
    expect(diag.detail).toContain(join(project.root, "handlers", "missing.ts"));
    expect(where(diag)).toBe("10:14");
  });

  it("refuses an unsupported extension", async () => {
    project.write("handlers/default.py", "def handler(): pass\n");
    const diag = find(problems(await project.load(VALID.replace("default.ts", "default.py"))), "not supported");
    expect(diag.summary).toBe('functions.default.handler: handler files of type ".py" are not supported');
    expect(diag.detail).toContain(".ts, .mts, .cts, .js, .mjs, .cjs");
  });

  it("accepts .mjs, .js and .mts handlers", async () => {
    for (const extension of [".mjs", ".js", ".mts"]) {
      project.write(`handlers/other${extension}`, HANDLER_STUB);
      const result = await project.load(VALID.replace("default.ts", `other${extension}`));
      expect(result.ok).toBe(true);
    }
  });

  it("refuses a handler outside the project", async () => {
    const outside = mkdtempSync(join(tmpdir(), "chatctl-outside-"));
    try {
      writeFileSync(join(outside, "evil.ts"), HANDLER_STUB);
      const diag = find(problems(await project.load(VALID.replace("../handlers/default.ts", join(outside, "evil.ts")))), "outside");
      expect(diag.summary).toBe(`functions.default.handler: handler ${JSON.stringify(join(outside, "evil.ts"))} is outside the project`);
      expect(diag.detail).toContain(project.root);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("refuses a symbolic link leading out of the project", async () => {
    const outside = mkdtempSync(join(tmpdir(), "chatctl-outside-"));
    try {
      writeFileSync(join(outside, "evil.ts"), HANDLER_STUB);
      symlinkSync(join(outside, "evil.ts"), join(project.root, "handlers", "link.ts"));
      expect(find(problems(await project.load(VALID.replace("default.ts", "link.ts"))), "outside").line).toBe(10);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("refuses a folder given as handler", async () => {
    mkdirSync(join(project.root, "handlers", "folder.ts"), { recursive: true });
    expect(find(problems(await project.load(VALID.replace("default.ts", "folder.ts"))), "not a file").line).toBe(10);
  });

  it("takes the nearest folder with .git as the project root when there is no package.json", async () => {
    const root = mkdtempSync(join(tmpdir(), "chatctl-git-"));
    try {
      mkdirSync(join(root, ".git"));
      mkdirSync(join(root, "handlers"));
      mkdirSync(join(root, "deploy", "specs"), { recursive: true });
      writeFileSync(join(root, "handlers", "h.ts"), HANDLER_STUB);
      const text = "stack: my-chat\nroutes: { $default: d }\nfunctions:\n  d: { handler: ../../handlers/h.ts }\n";
      const result = await loadSpecText(text, join(root, "deploy", "specs", "chat.yaml"), { env: {} });
      if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
      expect(result.projectRoot).toBe(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it("takes the spec's own folder as the project when no marker is found above it", async () => {
    const root = mkdtempSync(join(tmpdir(), "chatctl-bare-"));
    try {
      mkdirSync(join(root, "specs"));
      mkdirSync(join(root, "handlers"));
      writeFileSync(join(root, "handlers", "h.ts"), HANDLER_STUB);
      const text = "stack: my-chat\nroutes: { $default: d }\nfunctions:\n  d: { handler: ../handlers/h.ts }\n";
      const result = await loadSpecText(text, join(root, "specs", "chat.yaml"), { env: {} });
      // Only meaningful when no folder above the temp dir is a project; that is the usual case.
      if (!result.ok) expect(find(result.diagnostics, "outside").line).toBe(4);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("table names reach functions as environment variables", () => {
  it("refuses two tables that would share one TABLE_ variable", async () => {
    const text = `${VALID}  chat-rooms:\n    partitionKey: id\n  chat_rooms:\n    partitionKey: id\n`;
    const diag = find(problems(await project.load(text)), "would both reach functions");
    expect(diag.summary).toBe('tables.chat_rooms: tables "chat-rooms" and "chat_rooms" would both reach functions as TABLE_CHAT_ROOMS');
    expect(where(diag)).toBe("16:3");
  });
});

describe("AWS limits", () => {
  it("refuses a function whose derived name is longer than 64 characters", async () => {
    const stack = "a".repeat(24);
    const fn = `f${"x".repeat(39)}`;
    const text = `stack: ${stack}\nroutes: { $default: ${fn} }\nfunctions:\n  ${fn}: { handler: ../handlers/default.ts }\n`;
    const diag = find(problems(await project.load(text)), "would be 65 characters");
    expect(diag.summary).toContain("Lambda and IAM allow 64");
    expect(where(diag)).toBe("4:3");
  });

  it("warns, without failing, when a routed function may run longer than API Gateway waits", async () => {
    const result = await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    timeout: 60\n"));
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatchObject({ severity: "warning", line: 9, column: 14, path: "functions.connect.timeout" });
    expect(result.warnings[0]?.summary).toContain("API Gateway waits (29 s) for route $connect");
  });

  it("does not warn about 29 seconds", async () => {
    const result = await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    timeout: 29\n"));
    expect(result.ok && result.warnings).toEqual([]);
  });

  it("warns about a function no route uses", async () => {
    const result = await project.load(`${VALID.replace("tables:\n  connections", "  spare: { handler: ../handlers/default.ts }\ntables:\n  connections")}`);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.warnings.map((w) => w.summary)).toEqual(["functions.spare: no route uses this function"]);
  });

  it("needs both capacities for PROVISIONED billing", async () => {
    const diags = problems(await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: connectionId\n    billingMode: PROVISIONED\n    readCapacity: 5")));
    const diag = find(diags, "PROVISIONED needs");
    expect(diag.summary).toBe("tables.connections: billingMode PROVISIONED needs writeCapacity");
    expect(where(diag)).toBe("12:3");
  });

  it("forbids capacities for PAY_PER_REQUEST billing, explicit or default", async () => {
    const diags = problems(await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: connectionId\n    writeCapacity: 5")));
    const diag = find(diags, "only for billingMode PROVISIONED");
    expect(diag.summary).toBe("tables.connections.writeCapacity: writeCapacity is only for billingMode PROVISIONED");
    expect(where(diag)).toBe("14:5");
  });

  it("accepts PROVISIONED billing with both capacities", async () => {
    const result = await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: connectionId\n    billingMode: PROVISIONED\n    readCapacity: 5\n    writeCapacity: 2"));
    expect(result.ok).toBe(true);
  });

  it("refuses a sort key equal to the partition key", async () => {
    const diags = problems(await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: connectionId\n    sortKey: { name: connectionId, type: N }")));
    expect(where(find(diags, "sort key must differ"))).toBe("14:14");
  });

  it("refuses environment variables the Lambda runtime owns, and too large an environment", async () => {
    const text = VALID.replace(
      "    handler: ../handlers/default.ts\n",
      `    handler: ../handlers/default.ts\n    environment:\n      AWS_REGION: eu-west-1\n      BIG: "${"x".repeat(4100)}"\n`,
    );
    const diags = problems(await project.load(text));
    expect(where(find(diags, "AWS_REGION is set by the Lambda runtime"))).toBe("12:7");
    expect(where(find(diags, "Lambda allows 4096"))).toBe("11:5");
  });

  it("refuses tag keys reserved by AWS and by chatctl", async () => {
    const diags = problems(await project.load(`${VALID}tags:\n  aws:cost: x\n  chatctl:stack: y\n  team: chat\n`));
    expect(where(find(diags, "reserved by AWS"))).toBe("15:3");
    expect(where(find(diags, "chatctl: are reserved"))).toBe("16:3");
  });

  it("needs a route selection expression over the message body", async () => {
    const diags = problems(await project.load(`${VALID}api:\n  routeSelectionExpression: $request.header.action\n`));
    expect(where(find(diags, "must be $request.body.<field>"))).toBe("15:29");
  });
});
