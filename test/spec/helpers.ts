import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Diagnostic } from "../../src/spec/diagnostics.js";
import { type LoadResult, loadSpecText } from "../../src/spec/loader.js";

export const HANDLER_STUB = "export const handler = async () => ({ statusCode: 200 });\n";

/** A throwaway project: package.json at the root, specs/ and handlers/ like the real one. */
export class TempProject {
  readonly root: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "chatctl-spec-"));
    writeFileSync(join(this.root, "package.json"), "{}\n");
    mkdirSync(join(this.root, "specs"));
    for (const name of ["connect", "disconnect", "default", "sendmessage", "broadcast", "authorize"]) this.write(`handlers/${name}.ts`, HANDLER_STUB);
  }

  write(relativePath: string, text: string | Uint8Array): string {
    const path = join(this.root, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    return path;
  }

  /** Loads `text` as if it were specs/chat.yaml of this project. */
  load(text: string | Uint8Array, env: NodeJS.ProcessEnv = {}): Promise<LoadResult> {
    return loadSpecText(text, join(this.root, "specs", "chat.yaml"), { env });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function problems(result: LoadResult): Diagnostic[] {
  if (result.ok) throw new Error(`expected problems, the spec loaded (warnings: ${JSON.stringify(result.warnings)})`);
  return result.diagnostics;
}

/** The one diagnostic whose summary contains `text`; fails loudly when there is none or several. */
export function find(diags: readonly Diagnostic[], text: string): Diagnostic {
  const matches = diags.filter((d) => d.summary.includes(text));
  if (matches.length !== 1) {
    throw new Error(`expected one diagnostic containing ${JSON.stringify(text)}, found ${matches.length}:\n${diags.map((d) => `${d.line}:${d.column} ${d.summary}`).join("\n")}`);
  }
  return matches[0] as Diagnostic;
}

/** "line:column" of a diagnostic, for compact assertions. */
export function where(diag: Diagnostic): string {
  return `${diag.line}:${diag.column}`;
}

/** A valid spec to start from; tests change one thing in it. */
export const VALID = `stack: my-chat
routes:
  $connect: connect
  $default: default
functions:
  connect:
    handler: ../handlers/connect.ts
    tables: [connections]
  default:
    handler: ../handlers/default.ts
tables:
  connections:
    partitionKey: connectionId
`;
