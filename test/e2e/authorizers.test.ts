import { Sha256 } from "@aws-crypto/sha256-js";
import { CloudWatchLogsClient, FilterLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { LOCAL_CREDENTIALS } from "../../src/local/endpoint.js";
import { runCli, startTestCloud, type TestCloud } from "../support/cloud.js";

// Issue 13's end-to-end list, on stacks applied through the real CLI to one local
// cloud (what `chatctl dev` runs): specs/test-auth.yaml (a REQUEST authorizer on
// $connect, access logs), specs/test-iam.yaml (authorization: iam) and
// specs/test-throttle.yaml (two requests per route, then almost none).

const region = "ap-northeast-1";
let cloud: TestCloud;
let logs: CloudWatchLogsClient;
const open = new Set<WebSocket>();

beforeAll(async () => {
  // The authorizer gives up after 1 s here (10 s on AWS), so the slow answer is quick to test.
  cloud = await startTestCloud({ region, limits: { authorizerTimeoutMs: 1000 } });
  const at = ["--endpoint-url", cloud.url];
  await Promise.all(
    ["specs/test-auth.yaml", "specs/test-iam.yaml", "specs/test-throttle.yaml"].map(async (spec) => {
      const r = await runCli(["apply", "-f", spec, ...at, "--auto-approve"]);
      if (r.code !== 0) throw new Error(`apply ${spec} failed:\n${r.stdout}\n${r.stderr}`);
    }),
  );
  logs = new CloudWatchLogsClient({ region, endpoint: cloud.url, credentials: LOCAL_CREDENTIALS });
}, 90_000);

afterAll(async () => {
  for (const ws of open) ws.terminate();
  await cloud?.stop();
});

const wsUrl = (path: string): string => `${cloud.url.replace(/^http/, "ws")}${path}`;

interface Opened {
  readonly ws: WebSocket;
  readonly protocol: string;
  /** The next message, parsed. */
  next(): Promise<Record<string, unknown>>;
}

type Attempt = { readonly status: number; readonly body: string } | { readonly opened: Opened };

/** Connects, and tells how the upgrade ended: an HTTP refusal or an open socket. */
function attempt(path: string, opts: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(path), protocols, opts);
    const queue: Record<string, unknown>[] = [];
    const waiters: Array<(m: Record<string, unknown>) => void> = [];
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString("utf8")) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.on("unexpected-response", (req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", () => resolve({ status: res.statusCode ?? 0, body }));
      void req;
    });
    ws.on("open", () => {
      open.add(ws);
      resolve({
        opened: {
          ws,
          protocol: ws.protocol,
          next: () => new Promise((r) => (queue.length > 0 ? r(queue.shift() as Record<string, unknown>) : waiters.push(r))),
        },
      });
    });
    ws.on("error", (err) => (ws.readyState === WebSocket.CLOSED ? undefined : reject(err)));
  });
}

async function refusedWith(path: string, opts?: WebSocket.ClientOptions): Promise<number> {
  const a = await attempt(path, opts);
  if ("opened" in a) {
    a.opened.ws.terminate();
    throw new Error(`${path} was let in`);
  }
  return a.status;
}

async function opened(path: string, opts?: WebSocket.ClientOptions, protocols?: string[]): Promise<Opened> {
  const a = await attempt(path, opts, protocols);
  if (!("opened" in a)) throw new Error(`${path} was refused with ${a.status} ${a.body}`);
  return a.opened;
}

const invocations = (): number => cloud.calls().filter((c) => c.operation === "Invoke").length;

/** Log lines of a group containing `text`, waiting (bounded) for them to arrive. */
async function linesOf(group: string, text: string, atLeast = 1): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const out = await logs.send(new FilterLogEventsCommand({ logGroupName: group }));
    const found = (out.events ?? []).map((e) => e.message ?? "").filter((m) => m.includes(text));
    if (found.length >= atLeast) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

describe("a REQUEST authorizer on $connect", () => {
  it("answers 401 without invoking it when the identity source is missing or empty", async () => {
    const before = invocations();
    expect(await refusedWith("/auth")).toBe(401);
    expect(await refusedWith("/auth?token=")).toBe(401);
    expect(await refusedWith("/auth?other=allow")).toBe(401);
    expect(invocations()).toBe(before);
  });

  it("answers 403 on a Deny, an Allow of another resource, or a malformed answer, and 500 when it fails", async () => {
    expect(await refusedWith("/auth?token=deny")).toBe(403);
    expect(await refusedWith("/auth?token=elsewhere")).toBe(403);
    expect(await refusedWith("/auth?token=malformed")).toBe(403);
    expect(await refusedWith("/auth?token=boom")).toBe(500);
    expect(await refusedWith("/auth?token=slow")).toBe(500);
    // None of them reached $connect.
    expect(await linesOf("/aws/lambda/auth-test-connect", '"connect"', 0)).toEqual([]);
  });

  it("lets an Allow in, with principalId and context in $connect and in a later route", async () => {
    const c = await opened("/auth?token=allow");
    c.ws.send(JSON.stringify({ action: "whoami" }));
    const later = await c.next();
    expect(later).toEqual({ route: "whoami", authorizer: { principalId: "ann", user: "ann", level: 7, admin: true } });
    c.ws.send("not json: the $default route");
    expect((await c.next()).authorizer).toEqual({ principalId: "ann", user: "ann", level: 7, admin: true });
    const [connectLine] = await linesOf("/aws/lambda/auth-test-connect", '"principalId":"ann"');
    expect(JSON.parse(connectLine?.slice(connectLine.indexOf("{")) ?? "{}")).toMatchObject({ authorizer: { principalId: "ann", user: "ann", level: 7, admin: true } });
    // The authorizer saw AWS's REQUEST event, with the $connect route's methodArn.
    const [invoked] = await linesOf("/aws/lambda/auth-test-authorize", '"token":"allow"');
    expect(invoked).toMatch(/"type":"REQUEST","methodArn":"arn:aws:execute-api:ap-northeast-1:000000000000:[a-z0-9]+\/auth\/\$connect"/);
    c.ws.close();
  });

  it("matches resource wildcards as IAM does", async () => {
    const c = await opened("/auth?token=wildcard");
    c.ws.send(JSON.stringify({ action: "whoami" }));
    expect((await c.next()).authorizer).toEqual({ principalId: "bob" });
    c.ws.close();
  });

  it("accepts a subprotocol only when $connect returns it", async () => {
    const chosen = await opened("/auth?token=allow&subprotocol=1", {}, ["chat.v1", "chat.v2"]);
    expect(chosen.protocol).toBe("chat.v1");
    chosen.ws.close();
    // $connect said nothing: the handshake carries no protocol, which a client offering one refuses.
    await expect(attempt("/auth?token=allow", {}, ["chat.v1"])).rejects.toThrow(/protocol/i);
  });

  it("writes access log lines for allowed and refused connections", async () => {
    const lines = await linesOf("/aws/apigateway/auth-test/auth/access", '"eventType":"CONNECT"', 5);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, string>);
    const statuses = new Set(parsed.map((p) => p.status));
    for (const s of ["200", "401", "403", "500"]) expect(statuses).toContain(s);
    const ok = parsed.find((p) => p.status === "200");
    expect(ok).toMatchObject({ routeKey: "$connect", eventType: "CONNECT" });
    expect(ok?.requestId).toMatch(/\S/);
    expect(ok?.connectionId).toMatch(/\S/);
    expect((await linesOf("/aws/apigateway/auth-test/auth/access", '"eventType":"MESSAGE"'))[0]).toContain('"routeKey":"whoami"');
  });
});

describe("authorization: iam on $connect", () => {
  async function signedHeaders(path: string, credentials: { accessKeyId: string; secretAccessKey: string }): Promise<Record<string, string>> {
    const { host } = new URL(cloud.url);
    const signer = new SignatureV4({ service: "execute-api", region, credentials, sha256: Sha256 });
    const signed = await signer.sign(new HttpRequest({ method: "GET", protocol: "http:", hostname: host.split(":")[0] ?? "", port: Number(host.split(":")[1]), path, headers: { host } }));
    return Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k !== "host"));
  }

  it("refuses an unsigned connection, and one signed with other credentials, with 403", async () => {
    expect(await refusedWith("/iam")).toBe(403);
    expect(await refusedWith("/iam", { headers: await signedHeaders("/iam", { accessKeyId: "someone", secretAccessKey: "else" }) })).toBe(403);
    const tampered = await signedHeaders("/iam", { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: "wrong" });
    expect(await refusedWith("/iam", { headers: tampered })).toBe(403);
  });

  it("lets a connection signed with the local credentials in", async () => {
    const c = await opened("/iam", { headers: await signedHeaders("/iam", LOCAL_CREDENTIALS) });
    c.ws.send("hello");
    expect(await c.next()).toEqual({ route: "$default", authorizer: null });
    c.ws.close();
  });
});

describe("stage throttling", () => {
  it("answers 429 to a connect over the burst, and LimitExceededException to a message over it", async () => {
    const first = await opened("/throttle");
    const second = await opened("/throttle");
    expect(await refusedWith("/throttle")).toBe(429);
    for (let i = 0; i < 3; i++) first.ws.send(`m${i}`);
    const answers = [await first.next(), await first.next(), await first.next()];
    expect(answers.filter((a) => a.route === "$default")).toHaveLength(2);
    expect(answers.filter((a) => a.message === "LimitExceededException")).toHaveLength(1);
    first.ws.close();
    second.ws.close();
  });
});
