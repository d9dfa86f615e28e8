import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { ConnectionPoster, payload } from "../../handlers/lib/poster.js";
import { CREDENTIALS, REGION } from "./support.js";

describe("ConnectionPoster's request timeout", () => {
  it("reports a post that got no answer in time as failed and does not send it again (it may have been delivered)", async () => {
    let received = 0;
    const late: ServerResponse[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      received++;
      req.resume();
      late.push(res); // answered only once the poster has given up
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const poster = new ConnectionPoster({ endpoint: new URL(`http://127.0.0.1:${port}/api/prod`), region: REGION, credentials: CREDENTIALS, maxSockets: 2, requestTimeoutMs: 50 });
      const result = await poster.post("someone", payload("{}"));
      expect(result).toMatchObject({ outcome: "failed", errorName: "RequestTimeout" });
      expect(received).toBe(1);
    } finally {
      for (const res of late) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
