import { afterEach, describe, expect, it, vi } from "vitest";
import { handler, signTicket, verifyTicket, type AuthorizerEvent } from "../../handlers/authorize.js";

const SECRET = "ticket-test-secret";
const METHOD_ARN = "arn:aws:execute-api:ap-northeast-1:123456789012:abc123/prod/$connect";
const event = (ticket?: string): AuthorizerEvent => ({
  type: "REQUEST",
  methodArn: METHOD_ARN,
  queryStringParameters: ticket === undefined ? null : { ticket },
  requestContext: { connectionId: "c1", routeKey: "$connect" },
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("the ticket authorizer (handlers/authorize.ts)", () => {
  it("accepts a ticket it signed until it expires, and nothing altered, expired or too far ahead", () => {
    const now = 1_800_000_000;
    const ticket = signTicket("ann", now + 60, SECRET);
    expect(verifyTicket(ticket, SECRET, now)).toBe("ann");
    expect(verifyTicket(ticket, SECRET, now + 60)).toBeUndefined();
    expect(verifyTicket(ticket.replace("ann.", "bob."), SECRET, now)).toBeUndefined();
    expect(verifyTicket(ticket, "another-secret", now)).toBeUndefined();
    expect(verifyTicket(signTicket("ann", now + 86_400, SECRET), SECRET, now)).toBeUndefined();
    expect(verifyTicket("garbage", SECRET, now)).toBeUndefined();
  });

  it("answers Allow on the methodArn with the user in the context, Deny otherwise, and never logs the ticket", async () => {
    vi.stubEnv("CHAT_TICKET_SECRET", SECRET);
    const logged: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void logged.push(line));
    const ticket = signTicket("ann", Math.floor(Date.now() / 1000) + 60, SECRET);
    expect(await handler(event(ticket))).toEqual({
      principalId: "ann",
      policyDocument: { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: "Allow", Resource: METHOD_ARN }] },
      context: { user: "ann", issuedBy: "ticket" },
    });
    expect((await handler(event("nope"))).policyDocument.Statement[0]?.Effect).toBe("Deny");
    expect(logged.join("\n")).not.toContain(ticket);
  });

  it("fails closed without a secret: an error (500), never an Allow", async () => {
    vi.stubEnv("CHAT_TICKET_SECRET", "");
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    await expect(handler(event("x"))).rejects.toThrow(/not configured/);
  });
});
