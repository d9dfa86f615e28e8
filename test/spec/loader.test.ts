import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../src/spec/loader.js";
import { TempProject, VALID, find, problems, where } from "./helpers.js";

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

describe("a valid spec", () => {
  it("loads with every default filled in", async () => {
    const result = await project.load(VALID);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.file).toBe(join(project.root, "specs", "chat.yaml"));
    expect(result.dir).toBe(join(project.root, "specs"));
    expect(result.projectRoot).toBe(project.root);
    expect(result.region).toBe("ap-northeast-1");
    expect(result.warnings).toEqual([]);
    expect(result.spec.api).toEqual({ routeSelectionExpression: "$request.body.action", stage: "prod" });
    expect(result.spec.functions.default).toEqual({
      handler: "../handlers/default.ts",
      runtime: "nodejs22.x",
      memory: 256,
      timeout: 10,
      environment: {},
      tables: [],
      manageConnections: false,
      invokes: [],
      logRetentionDays: 14,
      permissions: [],
    });
    expect(result.spec.tables.connections).toEqual({
      partitionKey: "connectionId",
      billingMode: "PAY_PER_REQUEST",
      onDestroy: "retain",
      deletionProtection: false,
      indexes: [],
    });
    expect(result.spec.tags).toEqual({});
  });

  it("takes the region from the spec, else AWS_REGION, else AWS_DEFAULT_REGION, else ap-northeast-1", async () => {
    const both = { AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "us-east-2" };
    const region = async (text: string, env: NodeJS.ProcessEnv): Promise<string> => {
      const result = await project.load(text, env);
      if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
      return result.region;
    };
    expect(await region(`region: us-west-2\n${VALID}`, both)).toBe("us-west-2");
    expect(await region(VALID, both)).toBe("eu-west-1");
    expect(await region(VALID, { AWS_DEFAULT_REGION: "us-east-2" })).toBe("us-east-2");
    expect(await region(VALID, { AWS_REGION: "" })).toBe("ap-northeast-1");
  });

  it("accepts a $schema key and a yaml-language-server modeline", async () => {
    const result = await project.load(`# yaml-language-server: $schema=../schema/chat.schema.json\n$schema: ../schema/chat.schema.json\n${VALID}`);
    expect(result.ok).toBe(true);
  });

  it("accepts anchors and merge keys for shared settings", async () => {
    const result = await project.load(`stack: my-chat
routes: { $connect: connect, $default: default }
functions:
  connect: &base
    handler: ../handlers/connect.ts
    memory: 512
  default:
    <<: *base
    handler: ../handlers/default.ts
`);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.spec.functions.default?.memory).toBe(512);
    expect(result.spec.functions.default?.handler).toBe("../handlers/default.ts");
  });
});

describe("schema problems", () => {
  it("rewrites a wrong number for people, pointing at the value", async () => {
    const diags = problems(await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    timeout: 1.5\n")));
    const diag = find(diags, "timeout");
    expect(diag.summary).toBe("functions.connect.timeout: must be a whole number between 1 and 900, not the number 1.5");
    expect(diag).toMatchObject({ severity: "error", file: join(project.root, "specs", "chat.yaml"), line: 9, column: 14, path: "functions.connect.timeout" });
    expect(diag.sourceLine).toBe("    timeout: 1.5");
  });

  it("says what was expected when a type is wrong", async () => {
    const diags = problems(await project.load(VALID.replace("  default:\n    handler: ../handlers/default.ts\n", "  default:\n    handler: ../handlers/default.ts\n    manageConnections: yes\n    memory: lots\n")));
    expect(find(diags, "manageConnections").summary).toBe('functions.default.manageConnections: must be true or false, not the text "yes"');
    expect(find(diags, "memory").summary).toBe('functions.default.memory: must be a whole number between 128 and 10240, not the text "lots"');
    expect(where(find(diags, "memory"))).toBe("12:13");
  });

  it("suggests quotes when a number is given where text is needed", async () => {
    const diags = problems(await project.load(VALID.replace("    handler: ../handlers/default.ts\n", "    handler: ../handlers/default.ts\n    environment:\n      PORT: 8080\n")));
    const diag = find(diags, "PORT");
    expect(diag.summary).toBe("functions.default.environment.PORT: must be text, not the number 8080");
    expect(diag.detail).toContain('"8080"');
    expect(where(diag)).toBe("12:13");
  });

  it("reports an unknown key at the key, listing the allowed keys and the likely one", async () => {
    const diags = problems(await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    timout: 3\n")));
    const diag = find(diags, "unknown key");
    expect(diag.summary).toBe('functions.connect: unknown key "timout" (did you mean "timeout"?)');
    expect(diag.detail).toBe(
      "allowed keys in functions.connect: handler, description, runtime, memory, timeout, environment, tables, manageConnections, invokes, logRetentionDays, permissions",
    );
    expect(where(diag)).toBe("9:5");
  });

  it("reports an unknown top-level key", async () => {
    const diag = find(problems(await project.load(`${VALID}lambda: {}\n`)), "unknown key");
    expect(diag.summary).toBe('unknown key "lambda"');
    expect(diag.detail).toBe("allowed keys at the top level: $schema, stack, region, api, routes, authorizers, functions, tables, tags, environments");
    expect(where(diag)).toBe("14:1");
  });

  it("reports a missing key at the mapping that should hold it", async () => {
    const diags = problems(await project.load(VALID.replace("    handler: ../handlers/default.ts\n", "    memory: 512\n")));
    const diag = find(diags, "missing");
    expect(diag.summary).toBe('functions.default: missing required key "handler"');
    expect(where(diag)).toBe("9:3");
    expect(diag.detail).toContain("relative to this file");
  });

  it("reports missing top-level keys at the start of the file", async () => {
    const diags = problems(await project.load("# a spec\nregion: eu-west-1\n"));
    expect(diags.map((d) => `${where(d)} ${d.summary}`)).toEqual([
      '2:1 missing required key "stack"',
      '2:1 missing required key "routes"',
      '2:1 missing required key "functions"',
    ]);
  });

  it("explains a bad environment variable name at the name", async () => {
    const diags = problems(await project.load(VALID.replace("    handler: ../handlers/default.ts\n", "    handler: ../handlers/default.ts\n    environment: { 1ST: a }\n")));
    const diag = find(diags, "1ST");
    expect(diag.summary).toBe(`functions.default.environment: environment variable name "1ST" must start with a letter and hold only letters, digits and '_'`);
    expect(where(diag)).toBe("11:20");
  });

  it("lists the allowed values of an enumeration", async () => {
    const diags = problems(await project.load(VALID.replace("    partitionKey: connectionId\n", "    partitionKey: connectionId\n    billingMode: ON_DEMAND\n")));
    expect(find(diags, "billingMode").summary).toBe('tables.connections.billingMode: must be one of PAY_PER_REQUEST, PROVISIONED, not the text "ON_DEMAND"');
  });

  it("reports a bad route key at the key", async () => {
    const diags = problems(await project.load(VALID.replace("  $default: default\n", "  $default: default\n  send message: default\n  $bogus: default\n")));
    expect(where(find(diags, '"send message"'))).toBe("5:3");
    expect(find(diags, '"$bogus"').summary).toBe(
      "routes: route key \"$bogus\" must be $connect, $disconnect, $default, or a custom key without spaces that does not start with '$'",
    );
    expect(where(find(diags, '"$bogus"'))).toBe("6:3");
  });

  it("explains a partition key that is neither a name nor a mapping", async () => {
    const diags = problems(await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: [connectionId]")));
    expect(find(diags, "partitionKey").summary).toBe("tables.connections.partitionKey: must be text or a mapping (key: value), not a list");
  });

  it("looks inside a partition key mapping", async () => {
    const diags = problems(await project.load(VALID.replace("partitionKey: connectionId", "partitionKey: { name: connectionId, type: STRING }")));
    expect(find(diags, "type").summary).toBe('tables.connections.partitionKey.type: must be one of S, N, B, not the text "STRING"');
  });

  it("reports every problem of the file together, in file order", async () => {
    const text = `stack: My Chat
routes:
  $connect: connect
  $default: nobody
functions:
  connect:
    handler: ../handlers/connect.ts
    timeout: 0
    colour: blue
tables:
  connections: { partitionKey: id, readCapacity: 5 }
`;
    const diags = problems(await project.load(text));
    expect(diags.map((d) => `${where(d)} ${d.severity} ${d.path}`)).toEqual([
      "1:8 error stack",
      "4:13 error routes.$default",
      "8:14 error functions.connect.timeout",
      "9:5 error functions.connect.colour",
      "11:36 error tables.connections.readCapacity",
    ]);
  });
});

describe("YAML problems", () => {
  it("reports a syntax error with its position, and nothing about the content", async () => {
    const diags = problems(await project.load('stack: "my-chat\nroutes: {}\n'));
    expect(diags).toHaveLength(1);
    expect(diags[0]?.summary).toMatch(/quote/i);
    expect(diags[0]?.line).toBeGreaterThanOrEqual(1);
  });

  it("reports tabs used for indentation", async () => {
    const diags = problems(await project.load("stack: my-chat\nroutes:\n\t$default: default\n"));
    expect(diags[0]?.summary).toBe("tabs are not allowed for indentation in YAML");
    expect(diags[0]?.line).toBe(3);
  });

  it("reports a duplicate key with both places", async () => {
    const diags = problems(await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    handler: ../handlers/default.ts\n")));
    const diag = find(diags, "duplicate");
    expect(diag.summary).toBe('functions.connect: duplicate key "handler" (first defined at line 7, column 5)');
    expect(where(diag)).toBe("9:5");
    expect(diag.detail).toContain(`${join(project.root, "specs", "chat.yaml")}:7:5`);
  });

  it("reports a duplicate route key with both places", async () => {
    const diags = problems(await project.load(VALID.replace("  $default: default\n", "  $default: default\n  $connect: default\n")));
    const diag = find(diags, "duplicate");
    expect(diag.summary).toBe('routes: duplicate route key "$connect" (first defined at line 3, column 3)');
    expect(where(diag)).toBe("5:3");
  });

  it("treats keys that differ only in YAML type as duplicates", async () => {
    const diags = problems(await project.load(`${VALID}tags:\n  1: a\n  "1": b\n`));
    expect(where(find(diags, "duplicate"))).toBe("16:3");
  });

  it("refuses keys that are lists or mappings", async () => {
    const diags = problems(await project.load(`${VALID}tags:\n  ? [a, b]\n  : c\n`));
    expect(where(find(diags, "keys must be plain text"))).toBe("15:5");
  });

  it("refuses a __proto__ key, which JavaScript objects cannot hold faithfully", async () => {
    const diags = problems(await project.load(VALID.replace("  default:\n", "  __proto__:\n    handler: ../handlers/default.ts\n  default:\n")));
    expect(where(find(diags, '"__proto__" is not allowed'))).toBe("9:3");
  });

  it("reads Windows line endings, with the same positions", async () => {
    expect((await project.load(VALID.replace(/\n/g, "\r\n"))).ok).toBe(true);
    const diag = find(problems(await project.load("stack: my-chat\r\nroutes: {}\r\nfunctions: {}\r\nbogus: 1\r\n")), "bogus");
    expect(diag).toMatchObject({ line: 4, column: 1, sourceLine: "bogus: 1" });
  });

  it("points at the key when the value is left out", async () => {
    const diag = find(problems(await project.load(VALID.replace("    tables: [connections]\n", "    tables: [connections]\n    timeout:\n"))), "timeout");
    expect(diag.summary).toBe("functions.connect.timeout: must be a whole number between 1 and 900, not empty");
    expect(where(diag)).toBe("9:5");
  });

  it("refuses a top level that is not a mapping", async () => {
    expect(problems(await project.load("- stack: my-chat\n"))[0]?.summary).toBe(
      "the top level must be a mapping (stack:, routes:, functions: ...), not a list",
    );
    expect(problems(await project.load("just some words\n"))[0]?.summary).toContain("not a single value");
  });

  it("refuses an empty file and a file of comments", async () => {
    for (const text of ["", "   \n", "# only a comment\n"]) {
      const diags = problems(await project.load(text));
      expect(diags).toHaveLength(1);
      expect(diags[0]).toMatchObject({ summary: "the file is empty", line: 1, column: 1 });
    }
  });

  it("refuses a second YAML document", async () => {
    const diags = problems(await project.load(`${VALID}---\nstack: other\n`));
    expect(find(diags, "more than one YAML document").line).toBe(14);
  });

  it("reports an alias without an anchor", async () => {
    const diags = problems(await project.load(VALID.replace("tables: [connections]", "tables: *shared")));
    expect(find(diags, "alias *shared").line).toBe(8);
  });

  it("warns about an unknown tag but reads on", async () => {
    const diags = problems(await project.load(VALID.replace("stack: my-chat", "stack: !Sub my-chat\nbogus: 1")));
    expect(find(diags, "!Sub").severity).toBe("warning");
    expect(find(diags, "bogus").severity).toBe("error");
  });

  it("refuses invalid UTF-8, naming the line and column", async () => {
    const bytes = Buffer.concat([Buffer.from("stack: my-chat\nroutes: { $default: d"), Buffer.from([0xc3, 0x28]), Buffer.from(" }\n")]);
    const diags = problems(await project.load(bytes));
    expect(diags).toHaveLength(1);
    expect(diags[0]).toMatchObject({ line: 2, column: 22 });
    expect(diags[0]?.summary).toContain("not valid UTF-8");
  });

  it("refuses an alias bomb quickly instead of expanding it", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const name = String.fromCharCode(97 + i);
      const previous = String.fromCharCode(96 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(", ")}]`);
    }
    const diags = problems(await project.load(`${levels.join("\n")}\n`));
    expect(find(diags, "too many aliases").detail).toContain("100");
  });

  it("handles a file of many aliases without anchors, showing the first problems and a count of the rest", async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `k${i}: *x${i}`);
    const diags = problems(await project.load(`${lines.join("\n")}\n`));
    expect(diags).toHaveLength(201);
    expect(diags[0]?.summary).toBe("k0: alias *x0 has no anchor &x0 before it");
    expect(diags[200]?.summary).toBe("19800 more problems not shown; fix the ones above first");
  });

  it("refuses text over 1 MiB before parsing it", async () => {
    const text = `stack: my-chat\n# ${"x".repeat(1024 * 1024)}\n`;
    expect(problems(await project.load(text))[0]?.summary).toMatch(/at most 1048576 bytes/);
  });

  it("survives very deep nesting", async () => {
    const depth = 20_000;
    const diags = problems(await project.load(`stack: ${"[".repeat(depth)}${"]".repeat(depth)}\n`));
    expect(diags.length).toBeGreaterThan(0);
  });
});

describe("loadSpec reads files", () => {
  it("loads a file from disk", async () => {
    const file = project.write("specs/on-disk.yaml", VALID);
    const result = await loadSpec(file, { env: {} });
    expect(result.ok).toBe(true);
  });

  it("names a missing file plainly", async () => {
    const file = join(project.root, "specs", "nope.yaml");
    const diags = problems(await loadSpec(file));
    expect(diags).toEqual([
      expect.objectContaining({ severity: "error", file, summary: `cannot read ${file}: no such file` }),
    ]);
  });

  it("refuses a folder", async () => {
    mkdirSync(join(project.root, "specs", "folder.yaml"), { recursive: true });
    const diags = problems(await loadSpec(join(project.root, "specs", "folder.yaml")));
    expect(diags[0]?.summary).toContain("is a folder");
  });

  it("refuses a file over 1 MiB without reading it", async () => {
    const file = join(project.root, "specs", "huge.yaml");
    writeFileSync(file, Buffer.alloc(1024 * 1024 + 1, 0x20));
    expect(problems(await loadSpec(file))[0]?.summary).toContain("at most 1048576 bytes (1 MiB)");
  });

  it("keeps the file name as given in diagnostics", async () => {
    project.write("specs/bad.yaml", "stack: 5\n");
    const relativeName = join(project.root, "specs", "..", "specs", "bad.yaml");
    const diags = problems(await loadSpec(relativeName));
    expect(diags.every((d) => d.file === relativeName)).toBe(true);
  });
});
