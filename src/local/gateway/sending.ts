import { WebSocket } from "ws";

const utf8 = new TextDecoder("utf-8", { fatal: true });
function isUtf8(bytes: Buffer): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export type SendResult = "queued" | "closed" | "overflow";

/**
 * Queues one message on a client's socket as API Gateway sends it: text when the
 * bytes are UTF-8 (binary otherwise), in frames of at most `maxFrameBytes`.
 * "overflow" means the client has not read `maxSendBufferBytes` already: the
 * caller drops it. Strings are error frames of the gateway's own, always text.
 */
export function sendMessage(ws: WebSocket, data: Buffer | string, maxFrameBytes: number, maxSendBufferBytes: number): SendResult {
  if (ws.readyState !== WebSocket.OPEN) return "closed";
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  if (ws.bufferedAmount + bytes.length > maxSendBufferBytes) return "overflow";
  const binary = typeof data === "string" ? false : !isUtf8(bytes);
  if (bytes.length <= maxFrameBytes) {
    ws.send(bytes, { binary });
    return "queued";
  }
  for (let at = 0; at < bytes.length; at += maxFrameBytes) {
    const end = Math.min(bytes.length, at + maxFrameBytes);
    ws.send(bytes.subarray(at, end), { binary, fin: end === bytes.length });
  }
  return "queued";
}
