import { arnLike, globMatches } from "./permission.js";
import type { HandshakeFacts } from "./events.js";

// A WebSocket API's Lambda REQUEST authorizer, as API Gateway runs it on $connect
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html):
//  - every identity source must be present and non-empty, or the answer is 401 and the
//    function is not invoked;
//  - the function gets a REQUEST event (type, methodArn of the $connect route, headers,
//    query string, stage variables, requestContext) and answers with principalId, an IAM
//    policy and an optional context
//    (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html);
//  - an explicit Deny, or no Allow of execute-api:Invoke on a resource matching the
//    methodArn, is 403; an error or a timeout is 500.

export interface AuthorizerView {
  readonly authorizerId: string;
  readonly functionName: string;
  readonly identitySource: readonly string[];
}

export type AuthorizerDecision =
  | { readonly allow: true; readonly principalId: string; readonly context: Readonly<Record<string, string | number | boolean>> }
  | { readonly allow: false; readonly status: 401 | 403 | 500; readonly message: string; readonly why: string };

/** The Resource of a policy statement is limited to 512 characters (same page). */
const MAX_RESOURCE_LENGTH = 512;
/**
 * A bound on the whole answer. AWS documents none for WebSocket authorizers; 8 KB is
 * what REST authorizers are commonly held to, and it keeps requestContext.authorizer small.
 */
export const MAX_AUTHORIZER_RESPONSE_BYTES = 8 * 1024;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function headerValue(h: HandshakeFacts, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(h.headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/**
 * The value an identity source names, or undefined when it is absent or empty.
 * Header names are case-insensitive; query string names are not.
 */
export function identityValue(
  source: string,
  h: HandshakeFacts,
  stageVariables: Readonly<Record<string, string>>,
  context: Readonly<Record<string, unknown>>,
): string | undefined {
  let value: string | undefined;
  if (source.startsWith("route.request.header.")) value = headerValue(h, source.slice("route.request.header.".length));
  else if (source.startsWith("route.request.querystring.")) {
    const all = h.query.getAll(source.slice("route.request.querystring.".length));
    value = all[all.length - 1];
  } else if (source.startsWith("stageVariables.")) value = stageVariables[source.slice("stageVariables.".length)];
  else if (source.startsWith("context.")) {
    let at: unknown = context;
    for (const key of source.slice("context.".length).split(".")) at = isRecord(at) ? at[key] : undefined;
    value = typeof at === "string" || typeof at === "number" || typeof at === "boolean" ? String(at) : undefined;
  }
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** The identity sources a request lacks (absent or empty); any one means 401 without an invocation. */
export function missingIdentity(
  sources: readonly string[],
  h: HandshakeFacts,
  stageVariables: Readonly<Record<string, string>>,
  context: Readonly<Record<string, unknown>>,
): string[] {
  return sources.filter((s) => identityValue(s, h, stageVariables, context) === undefined);
}

export function authorizerEvent(
  methodArn: string,
  connectEvent: Record<string, unknown>,
  stageVariables: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const { isBase64Encoded: _unused, ...rest } = connectEvent;
  return { type: "REQUEST", methodArn, ...rest, stageVariables };
}

function strings(v: unknown): string[] | undefined {
  if (typeof v === "string") return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  return undefined;
}

/** `execute-api:Invoke`, `execute-api:*` or `*` (actions are case-insensitive in IAM). */
function coversInvoke(actions: readonly string[]): boolean {
  return actions.some((a) => globMatches(a.toLowerCase(), "execute-api:invoke"));
}

/**
 * The authorizer's answer against the $connect route's ARN: an explicit Deny wins,
 * then any Allow; statements that do not cover the action or the resource do not apply.
 * A shape that is not principalId + policyDocument.Statement (+ a context of strings,
 * numbers and booleans) is refused as malformed.
 */
export function evaluateAuthorizerAnswer(answer: unknown, methodArn: string): AuthorizerDecision {
  const forbidden = (why: string): AuthorizerDecision => ({ allow: false, status: 403, message: "Forbidden", why });
  if (typeof answer === "string") {
    try {
      answer = JSON.parse(answer) as unknown;
    } catch {
      return forbidden("the authorizer's answer is not JSON");
    }
  }
  if (!isRecord(answer)) return forbidden("the authorizer's answer is not an object");
  if (Buffer.byteLength(JSON.stringify(answer)) > MAX_AUTHORIZER_RESPONSE_BYTES) {
    return forbidden(`the authorizer's answer is over ${MAX_AUTHORIZER_RESPONSE_BYTES} bytes`);
  }
  const principalId = answer.principalId;
  if (typeof principalId !== "string" || principalId === "") return forbidden("principalId is missing");
  const doc = answer.policyDocument;
  const statements = isRecord(doc) ? (Array.isArray(doc.Statement) ? doc.Statement : isRecord(doc.Statement) ? [doc.Statement] : undefined) : undefined;
  if (!statements) return forbidden("policyDocument.Statement is missing");
  const context: Record<string, string | number | boolean> = {};
  if (answer.context !== undefined && answer.context !== null) {
    if (!isRecord(answer.context)) return forbidden("context is not an object");
    for (const [k, v] of Object.entries(answer.context)) {
      // "You can't set a JSON object or array as a valid value of any key in the context map."
      if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return forbidden(`context.${k} is not a string, number or boolean`);
      context[k] = v;
    }
  }
  let allowed = false;
  for (const raw of statements) {
    if (!isRecord(raw)) return forbidden("a statement is not an object");
    const effect = raw.Effect;
    const actions = strings(raw.Action);
    const resources = strings(raw.Resource);
    if ((effect !== "Allow" && effect !== "Deny") || !actions || !resources) return forbidden("a statement lacks Effect, Action or Resource");
    if (resources.some((r) => r.length > MAX_RESOURCE_LENGTH)) return forbidden(`a Resource is over ${MAX_RESOURCE_LENGTH} characters`);
    if (!coversInvoke(actions)) continue;
    if (!resources.some((r) => r === "*" || arnLike(r, methodArn))) continue;
    if (effect === "Deny") return forbidden("the policy denies execute-api:Invoke");
    allowed = true;
  }
  if (!allowed) return forbidden("no statement allows execute-api:Invoke on this route");
  return { allow: true, principalId, context };
}

/** requestContext.authorizer as routes see it: principalId beside the context's keys. */
export function authorizerContext(principalId: string, context: Readonly<Record<string, string | number | boolean>>): Record<string, unknown> {
  return { ...context, principalId };
}
