import { randomUUID } from "node:crypto";
import type { LogsModel } from "../models/logs.js";
import { AwsError, type OpInput, type ServiceModel, type WireAdapter, type WireRequest, type WireResponse } from "../service.js";

/**
 * The AWS JSON 1.0 / 1.1 protocols (Logs, DynamoDB...): a POST to "/" whose
 * `X-Amz-Target: <Prefix>.<Operation>` names the operation, the input as a JSON
 * body with the API's own member names, the output likewise. Timestamps that
 * models hand back as Date become epoch seconds, as the protocol sends them.
 * Errors are `{"__type": "<ExceptionName>", "message": "..."}` with the error's
 * HTTP status (400 for client errors).
 */
export interface JsonWireOptions {
  readonly signingName: string;
  readonly targetPrefix: string; // "Logs_20140328"
  readonly version: "1.0" | "1.1";
}

export function jsonWire(model: ServiceModel, opts: JsonWireOptions): WireAdapter {
  const contentType = `application/x-amz-json-${opts.version}`;
  function answer(status: number, requestId: string, body: unknown, errorType?: string): WireResponse {
    return {
      status,
      headers: { "content-type": contentType, "x-amzn-requestid": requestId, ...(errorType ? { "x-amzn-errortype": errorType } : {}) },
      body: JSON.stringify(body),
    };
  }
  return {
    signingName: opts.signingName,
    async handle(req: WireRequest): Promise<WireResponse> {
      const requestId = randomUUID();
      try {
        const target = headerValue(req.headers["x-amz-target"]);
        const dot = target?.lastIndexOf(".") ?? -1;
        const operation = target !== undefined && dot > 0 && target.slice(0, dot) === opts.targetPrefix ? target.slice(dot + 1) : undefined;
        if (operation === undefined || !model.supports(operation)) {
          throw new AwsError("UnknownOperationException", `${opts.signingName}: unknown operation ${target ?? "(no X-Amz-Target)"}`, 400);
        }
        const input = parseBody(req.body);
        const output = await model.dispatch(operation, input);
        return answer(200, requestId, datesToEpochSeconds(output));
      } catch (err) {
        // Anything but an AWS error (an injected dropped connection, our own bug) is the front door's to answer.
        if (!(err instanceof AwsError)) throw err;
        const e = err;
        return answer(e.statusCode, requestId, { __type: e.name, message: e.message }, e.name);
      }
    },
  };
}

function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function parseBody(body: Buffer): OpInput {
  const text = body.toString("utf8").trim();
  if (text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsError("SerializationException", "the request body is not valid JSON", 400);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AwsError("SerializationException", "the request body must be a JSON object", 400);
  }
  return parsed as OpInput;
}

function datesToEpochSeconds(v: unknown): unknown {
  if (v instanceof Date) return v.getTime() / 1000;
  if (Array.isArray(v)) return v.map(datesToEpochSeconds);
  if (typeof v === "object" && v !== null && !Buffer.isBuffer(v) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, datesToEpochSeconds(x)]));
  }
  return v;
}

export function logsWire(model: LogsModel): WireAdapter {
  return jsonWire(model, { signingName: "logs", targetPrefix: "Logs_20140328", version: "1.1" });
}
