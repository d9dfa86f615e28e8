import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadSpecText } from "../../src/spec/loader.js";
import { runtimePhase } from "../../src/aws/lambda-rules.js";
import { TempProject, VALID, find, problems, where } from "./helpers.js";

// What AWS would refuse half way through an apply, refused at plan time with a place in the file.

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

const withTags = (lines: string[]) => `${VALID}tags:\n${lines.map((l) => `  ${l}\n`).join("")}`;

describe("tags, as every service chatctl tags checks them", () => {
  it("refuses characters AWS does not take, in keys and values, at the offending text", async () => {
    const diags = problems(await project.load(withTags(['app: "chat (prod)"', 'team: "team!"', '"a,b": x', "ok_key: fine.value/with:all=+-@ chars"])));
    expect(where(find(diags, 'tag value "chat (prod)" holds "(" ")"'))).toBe("15:8");
    expect(where(find(diags, 'tag value "team!" holds "!"'))).toBe("16:9");
    expect(where(find(diags, 'tag key "a,b" holds ","'))).toBe("17:3");
    expect(diags.filter((d) => d.severity === "error")).toHaveLength(3);
  });

  it("refuses more tags than fit next to chatctl's own two, and over-long keys and values", async () => {
    const many = Array.from({ length: 49 }, (_, i) => `t${i}: v`);
    const diag = find(problems(await project.load(withTags(many))), "49 tags are too many");
    expect(where(diag)).toBe("14:1");
    expect(diag.detail).toBe("keep at most 48 tags");
    expect((await project.load(withTags(many.slice(0, 48)))).ok).toBe(true);

    const long = problems(await project.load(withTags([`${"k".repeat(129)}: v`, `v: ${"é".repeat(257)}`])));
    expect(where(find(long, "tag keys may be at most 128 characters"))).toBe("15:3");
    expect(where(find(long, "tag values may be at most 256 characters (this one has 257)"))).toBe("16:6");
  });
});

describe("Lambda's 4 KB environment", () => {
  it("counts the JSON of every variable, chatctl's TABLE_* included", async () => {
    // 4,053 bytes of names and values alone; as Lambda measures it, with TABLE_CONNECTIONS and TABLE_NAME, more than 4,096.
    const text = VALID.replace("    tables: [connections]\n", `    tables: [connections]\n    environment:\n      BIG: "${"x".repeat(4050)}"\n`);
    const diag = find(problems(await project.load(text)), "Lambda allows 4096");
    expect(diag.summary).toMatch(/^functions\.connect\.environment: environment variables take 4\d{3} bytes/);
    expect(diag.detail).toContain("including the 2 TABLE_* chatctl adds");
    expect(where(diag)).toBe("9:5");
    const fits = VALID.replace("    tables: [connections]\n", `    tables: [connections]\n    environment:\n      BIG: "${"x".repeat(3900)}"\n`);
    expect((await project.load(fits)).ok).toBe(true);
  });
});

describe("Lambda's runtime deprecation schedule", () => {
  const load = (text: string, today: string) => loadSpecText(text, join(project.root, "specs", "chat.yaml"), { env: {}, today: new Date(today) });
  const on20 = VALID.replace("    handler: ../handlers/default.ts\n", "    handler: ../handlers/default.ts\n    runtime: nodejs20.x\n");

  it("knows nodejs20.x: deprecated on 2026-04-30, then closed to new functions and to updates", () => {
    expect(runtimePhase("nodejs20.x", new Date("2026-04-29"))).toBe("supported");
    expect(runtimePhase("nodejs20.x", new Date("2026-04-30"))).toBe("deprecated");
    expect(runtimePhase("nodejs20.x", new Date("2026-08-31"))).toBe("create-blocked");
    expect(runtimePhase("nodejs20.x", new Date("2026-09-30"))).toBe("update-blocked");
  });

  it("refuses a runtime Lambda no longer takes, at the runtime", async () => {
    const diag = find(problems(await load(on20, "2026-12-01")), "runtime nodejs20.x can no longer be deployed");
    expect(where(diag)).toBe("11:14");
    expect(diag.detail).toMatch(/since 2026-08-31 .* since 2026-09-30; use nodejs22\.x or nodejs24\.x$/);
  });

  it("warns about one past deprecation that still deploys, and says nothing of the default", async () => {
    const result = await load(on20, "2026-05-15");
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.warnings.map((w) => `${w.line}:${w.column} ${w.summary}`)).toEqual(["11:14 functions.default.runtime: runtime nodejs20.x is deprecated"]);
    expect(result.spec.functions.connect?.runtime).toBe("nodejs22.x");
    const plain = await load(VALID, "2026-05-15");
    expect(plain.ok && plain.warnings).toEqual([]);
  });
});
