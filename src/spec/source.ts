// Turning the bytes of a spec file into text, refusing what is not a spec file.

/** Larger files are refused before parsing: a spec is a few kilobytes; a huge one is a mistake or an attack. */
export const MAX_SPEC_BYTES = 1024 * 1024;

export type DecodeResult =
  | { ok: true; text: string }
  | { ok: false; offset: number; line: number; column: number; sourceLine: string };

/** Offset of the first byte that is not part of a well-formed UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] ?? 0;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    let length: number;
    let min: number;
    let max = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
      min = 0x80;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      // Overlong forms below U+0800 and the UTF-16 surrogates are not characters.
      min = lead === 0xe0 ? 0xa0 : 0x80;
      if (lead === 0xed) max = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      min = lead === 0xf0 ? 0x90 : 0x80;
      if (lead === 0xf4) max = 0x8f;
    } else {
      return i;
    }
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined) return i;
      const lo = k === 1 ? min : 0x80;
      const hi = k === 1 ? max : 0xbf;
      if (next < lo || next > hi) return i;
    }
    i += length;
  }
  return -1;
}

export function decodeSpecBytes(bytes: Uint8Array): DecodeResult {
  const bad = firstInvalidUtf8(bytes);
  if (bad === -1) {
    const text = new TextDecoder("utf-8").decode(bytes);
    return { ok: true, text };
  }
  const before = new TextDecoder("utf-8").decode(bytes.subarray(0, bad));
  const lineStart = before.lastIndexOf("\n") + 1;
  const line = before.split("\n").length;
  const prefix = before.slice(lineStart);
  let lineEnd = bytes.indexOf(0x0a, bad);
  if (lineEnd === -1) lineEnd = bytes.length;
  const rest = new TextDecoder("utf-8").decode(bytes.subarray(bad, lineEnd));
  return { ok: false, offset: bad, line, column: prefix.length + 1, sourceLine: (prefix + rest).replace(/\r$/, "") };
}
