import type { Duplex } from "node:stream";

/**
 * Follows the frame headers of a client's WebSocket byte stream and reports
 * the first frame whose payload exceeds `maxFrameBytes`. API Gateway limits
 * frames (32 KB) apart from messages (128 KB, which may arrive in fragments);
 * `ws` only knows the message limit, so this watches frames.
 */
export class FrameScanner {
  private header: number[] = [];
  private skip = 0;

  constructor(private readonly maxFrameBytes: number) {}

  /** False once a frame over the limit starts; stop feeding it then. */
  push(chunk: Buffer): boolean {
    let i = 0;
    while (i < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.header.push(chunk[i] ?? 0);
      i++;
      const h = this.header;
      if (h.length < 2) continue;
      const len7 = (h[1] ?? 0) & 0x7f;
      const masked = ((h[1] ?? 0) & 0x80) !== 0;
      const need = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (h.length < need) continue;
      const bytes = Buffer.from(h);
      const length = len7 < 126 ? len7 : len7 === 126 ? bytes.readUInt16BE(2) : Number(bytes.readBigUInt64BE(2));
      this.header = [];
      if (length > this.maxFrameBytes) return false;
      this.skip = length;
    }
    return true;
  }
}

/**
 * Puts a FrameScanner in front of whoever reads `socket`'s "data" events (the
 * ws receiver, attached by handleUpgrade). Once a frame is too big nothing more
 * is passed on and `onTooBig` runs, which closes the connection with 1009.
 *
 * Each reader is re-attached behind a wrapper that names it as its `listener`
 * (as `once` wrappers do), so that a reader's own `removeListener("data", reader)`
 * still detaches it: ws does that after a protocol error, and a reader left
 * attached would pause the socket for good (no "end", no "close", no $disconnect).
 */
export function guardFrames(socket: Duplex, maxFrameBytes: number, onTooBig: () => void): void {
  const readers = socket.listeners("data") as Array<(chunk: Buffer) => void>;
  const scanner = new FrameScanner(maxFrameBytes);
  let tripped = false;
  for (const reader of readers) {
    socket.removeListener("data", reader);
    const guarded = Object.assign(
      function (this: Duplex, chunk: Buffer): void {
        if (!tripped) reader.call(this, chunk);
      },
      { listener: reader },
    );
    socket.on("data", guarded);
  }
  socket.prependListener("data", (chunk: Buffer) => {
    if (tripped || scanner.push(chunk)) return;
    tripped = true;
    onTooBig();
  });
}
