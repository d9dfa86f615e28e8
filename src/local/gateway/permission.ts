import type { ServiceModel } from "../service.js";

/** What API Gateway tells Lambda about itself when it invokes a route's function. */
export interface InvokeSource {
  readonly apiId: string;
  readonly stage: string;
  readonly routeKey: string;
  /** Set when API Gateway invokes an authorizer: the source ARN is then `{apiId}/authorizers/{id}`. */
  readonly authorizerId?: string;
}

const API_GATEWAY = "apigateway.amazonaws.com";
const LAMBDA_ARN = /^arn:([^:]+):lambda:([^:]+):(\d{12}):function:/;

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function strings(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** IAM's glob: `*` any run of characters (also across `/`), `?` one character; case-sensitive. */
export function globMatches(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, "s").test(value);
}

/** ArnLike: the six colon-separated parts compared one by one, each a glob. */
export function arnLike(pattern: string, arn: string): boolean {
  const split = (s: string): string[] | undefined => {
    const parts = s.split(":");
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
  };
  const p = split(pattern);
  const a = split(arn);
  return p !== undefined && a !== undefined && p.every((part, i) => globMatches(part, a[i] ?? ""));
}

function principalIsApiGateway(principal: unknown): boolean {
  if (principal === "*") return true;
  const p = asRecord(principal);
  if (!p) return false;
  return strings(p["Service"]).includes(API_GATEWAY) || strings(p["AWS"]).includes("*");
}

function actionAllowsInvoke(action: unknown): boolean {
  return strings(action).some((a) => globMatches(a.toLowerCase(), "lambda:invokefunction"));
}

/**
 * The condition block of a statement against the request's context keys. Keys
 * are case-insensitive in IAM; an operator or key we do not model makes the
 * statement not apply, so an unusual policy fails closed (and says so in the log)
 * rather than letting API Gateway in where AWS might not.
 */
function conditionHolds(condition: unknown, context: Readonly<Record<string, string>>): boolean {
  const block = asRecord(condition);
  if (!block) return condition === undefined;
  for (const [operator, tests] of Object.entries(block)) {
    const byKey = asRecord(tests);
    if (!byKey) return false;
    for (const [key, expected] of Object.entries(byKey)) {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) return false;
      const values = strings(expected);
      const match = (v: string): boolean => {
        switch (operator) {
          case "ArnLike":
          case "ArnEquals":
            return operator === "ArnLike" ? arnLike(v, actual) : v === actual;
          case "StringEquals":
            return v === actual;
          case "StringLike":
            return globMatches(v, actual);
          default:
            return false;
        }
      };
      if (!values.some(match)) return false;
    }
  }
  return true;
}

/**
 * Whether a function's resource policy (GetPolicy's `Policy` string) lets API
 * Gateway invoke it for this route: a statement allowing principal
 * apigateway.amazonaws.com the action lambda:InvokeFunction, whose conditions
 * (typically ArnLike AWS:SourceArn `arn:aws:execute-api:{region}:{account}:{apiId}/*`)
 * hold for `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{routeKey}`.
 * Region, account and partition come from the function ARN in the statement's
 * Resource: API Gateway invokes functions of its own account and region. A Deny wins.
 */
export function policyAllowsApiGateway(policy: string, source: InvokeSource): boolean {
  let statements: unknown;
  try {
    statements = asRecord(JSON.parse(policy) as unknown)?.["Statement"];
  } catch {
    return false;
  }
  let allowed = false;
  for (const raw of Array.isArray(statements) ? statements : [statements]) {
    const s = asRecord(raw);
    if (!s || !principalIsApiGateway(s["Principal"]) || !actionAllowsInvoke(s["Action"])) continue;
    const resource = strings(s["Resource"])[0] ?? "";
    const m = LAMBDA_ARN.exec(resource);
    if (!m) continue;
    const [, partition, region, account] = m;
    const path = source.authorizerId !== undefined ? `authorizers/${source.authorizerId}` : `${source.stage}/${source.routeKey}`;
    const sourceArn = `arn:${partition}:execute-api:${region}:${account}:${source.apiId}/${path}`;
    const context = { "aws:sourcearn": sourceArn, "aws:sourceaccount": account ?? "" };
    if (!conditionHolds(s["Condition"], context)) continue;
    if (s["Effect"] === "Deny") return false;
    if (s["Effect"] === "Allow") allowed = true;
  }
  return allowed;
}

/**
 * Answers "may API Gateway invoke this function for this route?" from the Lambda
 * model's state, looked at with `peek` (no call record, no injected fault), as
 * cheaply as every message needs: the decision is kept until the model changes,
 * and when it has changed (Invoke itself counts as a change for
 * `ServiceModel.mutations`) the policy text is compared before anything is parsed again.
 */
export function apiGatewayPermissionCheck(lambda: ServiceModel): (functionName: string, source: InvokeSource) => Promise<boolean> {
  const cache = new Map<string, { mutations: number; policy: string; allowed: boolean }>();
  return async (functionName, source) => {
    const key = `${functionName}\n${source.apiId}/${source.stage}/${source.routeKey}/${source.authorizerId ?? ""}`;
    const hit = cache.get(key);
    if (hit && hit.mutations === lambda.mutations) return hit.allowed;
    const mutations = lambda.mutations;
    let policy = "";
    try {
      const out = await lambda.peek("GetPolicy", { FunctionName: functionName });
      policy = typeof out["Policy"] === "string" ? out["Policy"] : "";
    } catch (err) {
      // No policy at all (or no function): nothing allows API Gateway in.
      if (!(err instanceof Error && err.name === "ResourceNotFoundException")) throw err;
    }
    const allowed = hit && hit.policy === policy ? hit.allowed : policy !== "" && policyAllowsApiGateway(policy, source);
    if (cache.size > 10_000) cache.clear(); // routes x functions is small; this only guards against a pathological API
    cache.set(key, { mutations, policy, allowed });
    return allowed;
  };
}
