import type { ApiView } from "./directory.js";
import { authorizerContext, authorizerEvent, evaluateAuthorizerAnswer, missingIdentity } from "./authorizer.js";
import { connectEvent, type ConnectionFacts, type HandshakeFacts } from "./events.js";
import type { Integrate } from "./integration.js";
import { verifySigV4, type SignedRequest } from "./sigv4.js";
import type { AccessLogValues } from "./stage-limits.js";

/** Whether $connect may run: with what the authorizer returned, or refused (never upgraded). */
export type Admission =
  | { readonly admit: true; readonly authorizer: Readonly<Record<string, unknown>> | undefined }
  | { readonly admit: false; readonly status: number; readonly message: string; readonly log: AccessLogValues };

export interface ConnectAuthorizationOptions {
  /** Invokes the authorizer's function, bounded by the authorizer timeout. */
  readonly integrate: Integrate;
  /** The region SigV4 signatures must be scoped to. */
  readonly region: string;
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly now: () => number;
  readonly log: (line: string) => void;
}

/**
 * The authorization of $connect, before its route runs: none, a SigV4 signature
 * (AWS_IAM), or a Lambda REQUEST authorizer (CUSTOM), as authorizer.ts and sigv4.ts
 * describe them.
 */
export function connectAuthorization(options: ConnectAuthorizationOptions) {
  const { integrate, log } = options;
  // `signed` is read only for AWS_IAM: copying the headers for every open $connect was wasted.
  return async (api: ApiView, facts: ConnectionFacts, handshake: HandshakeFacts, signed: () => SignedRequest, requestId: string): Promise<Admission> => {
    const auth = api.connectAuth;
    if (!auth) return { admit: true, authorizer: undefined };
    if (auth.type === "AWS_IAM") {
      const verdict = verifySigV4(signed(), options.region, options.secretFor, options.now());
      if (verdict.ok) return { admit: true, authorizer: undefined };
      log(`$connect ${facts.connectionId}: IAM authorization refused: ${verdict.why}`);
      return { admit: false, status: 403, message: "Forbidden", log: {} };
    }
    const stageVariables = api.stageVariables ?? {};
    const event = connectEvent(facts, handshake, options.now(), requestId);
    const context = (event.requestContext ?? {}) as Record<string, unknown>;
    const missing = missingIdentity(auth.authorizer.identitySource, handshake, stageVariables, context);
    if (missing.length > 0) {
      // API Gateway answers 401 without invoking the authorizer.
      log(`$connect ${facts.connectionId}: 401, identity source ${missing.join(", ")} missing or empty`);
      return { admit: false, status: 401, message: "Unauthorized", log: { "authorizer.error": "Unauthorized" } };
    }
    const methodArn = `${api.executeArn ?? `arn:aws:execute-api:us-east-1:000000000000:${api.apiId}`}/${api.stage}/$connect`;
    const outcome = await integrate(auth.authorizer.functionName, authorizerEvent(methodArn, event, stageVariables), `authorizer of $connect ${facts.connectionId}`, {
      apiId: api.apiId,
      stage: api.stage,
      routeKey: "$connect",
      authorizerId: auth.authorizer.authorizerId,
    });
    if (!outcome.ok) return { admit: false, status: 500, message: "Internal server error", log: { "authorizer.error": outcome.message } };
    const decision = evaluateAuthorizerAnswer(outcome.value, methodArn);
    if (decision.allow) return { admit: true, authorizer: authorizerContext(decision.principalId, decision.context) };
    log(`$connect ${facts.connectionId}: ${decision.status}, ${decision.why}`);
    return { admit: false, status: decision.status, message: decision.message, log: { "authorizer.error": decision.why } };
  };
}
