import { readFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { UserError } from "../errors.js";

/**
 * A message as the user gave it: the argument itself, `@file` for a file's
 * contents, or `-` for standard input. An empty message is refused: API Gateway
 * would deliver nothing, and it is almost always a pipe that produced no output.
 */
export async function readMessage(arg: string, stdin: Readable): Promise<Uint8Array> {
  if (arg === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
    const data = Buffer.concat(chunks);
    if (data.byteLength === 0) throw new UserError("no message on standard input (pipe one in, or give the message as an argument)");
    return data;
  }
  if (arg.startsWith("@") && arg.length > 1) {
    const path = arg.slice(1);
    let data: Buffer;
    try {
      data = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserError(`cannot read message file ${path}: ${code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : (code ?? String(err))}`);
    }
    if (data.byteLength === 0) throw new UserError(`message file ${path} is empty`);
    return data;
  }
  if (arg === "") throw new UserError("the message is empty");
  return Buffer.from(arg, "utf8");
}
