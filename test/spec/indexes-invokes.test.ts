import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TempProject, VALID, find, problems, where } from "./helpers.js";

let project: TempProject;
beforeAll(() => {
  project = new TempProject();
});
afterAll(() => project.remove());

const withIndexes = (indexes: string): string => `${VALID}    indexes:\n${indexes}`;

describe("tables.X.indexes", () => {
  it("loads an index with its defaults", async () => {
    const result = await project.load(withIndexes("      - { name: byRoom, partitionKey: room }\n"));
    expect(result.ok && result.spec.tables.connections?.indexes).toEqual([{ name: "byRoom", partitionKey: "room", projection: "ALL" }]);
  });

  it("reports two indexes of one name at the second", async () => {
    const diag = find(problems(await project.load(withIndexes("      - { name: byRoom, partitionKey: room }\n      - { name: byRoom, partitionKey: user }\n"))), "two indexes");
    expect(diag.summary).toBe('tables.connections.indexes[1].name: two indexes are named "byRoom"');
    expect(where(diag)).toBe("16:17");
  });

  it("reports an attribute given two types", async () => {
    const diag = find(problems(await project.load(withIndexes("      - { name: byId, partitionKey: { name: connectionId, type: N } }\n"))), "type N");
    expect(diag.summary).toBe(`tables.connections.indexes[0].partitionKey: attribute "connectionId" is type N here but S in the table's partitionKey`);
  });
});

describe("functions.X.invokes", () => {
  it("reports a function that is not defined, with the likely one", async () => {
    const diag = find(problems(await project.load(VALID.replace("tables: [connections]", "tables: [connections]\n    invokes: [defualt]"))), "no function");
    expect(diag.summary).toBe('functions.connect.invokes[0]: no function named "defualt" (did you mean "default"?)');
  });

  it("a function that is only invoked by another is not reported as unused", async () => {
    const text = `${VALID.replace("tables: [connections]", "tables: [connections]\n    invokes: [fanout]")}`.replace(
      "  default:\n    handler: ../handlers/default.ts\n",
      "  default:\n    handler: ../handlers/default.ts\n  fanout:\n    handler: ../handlers/default.ts\n",
    );
    const result = await project.load(text);
    if (!result.ok) throw new Error(JSON.stringify(result.diagnostics));
    expect(result.warnings.map((w) => w.summary)).toEqual([]);
  });
});
