import type { IncomingHttpHeaders } from "node:http";

/**
 * An AWS error as the service models raise it. `name` is the AWS error code
 * (what SDK v3 exceptions carry as `name`), so code that checks
 * `err.name === "ResourceNotFoundException"` behaves the same against the
 * models in unit tests (through aws-sdk-client-mock) and over HTTP.
 */
export class AwsError extends Error {
  readonly $fault: "client" | "server";
  readonly $metadata: { httpStatusCode: number };
  constructor(
    name: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = name;
    this.$fault = statusCode >= 500 ? "server" : "client";
    this.$metadata = { httpStatusCode: statusCode };
  }
}

export type OpInput = Record<string, unknown>;
export type OpOutput = Record<string, unknown>;
export type OpHandler = (input: OpInput) => Promise<OpOutput> | OpOutput;

const MAX_CALL_RECORDS = 100_000;
// Invoke runs code but changes no control-plane state.
const READ_ONLY = /^(Get|List|Describe|Filter|Invoke$)/;

/** One recorded call, for tests and benchmarks (e.g. "a no-op plan makes no write call"). */
export interface CallRecord {
  readonly service: string;
  readonly operation: string;
  readonly at: number;
}

/** One state-changing call, as `chatctl dev --persist` keeps it to replay at the next start. */
export interface JournalEntry {
  readonly service: string;
  readonly operation: string;
  readonly input: OpInput;
  /** The ids the model drew while serving it, handed back on replay so ids survive a restart. */
  readonly ids: readonly string[];
}

/**
 * Runs before every operation of every model; the place where tests inject
 * errors, delays and dropped connections (see the fault injector).
 */
export type BeforeCall = (service: string, operation: string, input: OpInput) => Promise<void> | void;

/**
 * The in-memory state and rules of one AWS service. Input and output shapes are
 * the AWS SDK v3 command shapes (PascalCase, as in `CreateFunctionCommandInput`),
 * so the same model serves unit tests (plugged into aws-sdk-client-mock) and the
 * local cloud (behind a wire-protocol adapter).
 */
export abstract class ServiceModel {
  abstract readonly service: string; // "lambda", "apigatewayv2", ...
  readonly calls: CallRecord[] = [];
  beforeCall: BeforeCall | undefined;
  /** Told of every call that succeeded and may have changed state. */
  journal: ((entry: JournalEntry) => void) | undefined;
  private mutationCount = 0;
  private drawnIds: string[] | undefined;
  private replayIds: string[] | undefined;
  protected abstract readonly operations: Readonly<Record<string, OpHandler>>;
  /** False for a data-plane model whose calls are too many to keep (@connections posts, thousands a second). */
  protected readonly recordsCalls: boolean = true;

  supports(operation: string): boolean {
    return Object.hasOwn(this.operations, operation);
  }

  /** Grows with every call that may have changed state: lets readers cache what they derive from it. */
  get mutations(): number {
    return this.mutationCount;
  }

  async dispatch(operation: string, input: OpInput): Promise<OpOutput> {
    if (this.recordsCalls) {
      // A long `chatctl dev` session must not grow without bound: keep the recent half.
      if (this.calls.length >= MAX_CALL_RECORDS) this.calls.splice(0, MAX_CALL_RECORDS / 2);
      this.calls.push({ service: this.service, operation, at: Date.now() });
    }
    if (this.beforeCall) await this.beforeCall(this.service, operation, input);
    const handler = this.handlerFor(operation);
    if (READ_ONLY.test(operation)) return await handler(input);
    this.mutationCount++;
    // State-changing handlers are synchronous, so the ids drawn here are this call's.
    const drawn: string[] = [];
    this.drawnIds = drawn;
    let output: OpOutput;
    try {
      output = await handler(input);
    } finally {
      this.drawnIds = undefined;
    }
    this.journal?.({ service: this.service, operation, input, ids: drawn });
    return output;
  }

  /** Serves a journaled call again, with the ids it drew the first time. */
  async replay(entry: JournalEntry): Promise<void> {
    this.replayIds = [...entry.ids];
    try {
      await this.handlerFor(entry.operation)(entry.input);
      this.mutationCount++;
    } finally {
      this.replayIds = undefined;
    }
  }

  /** Every generated id goes through here, so a replay can hand out the same ones. */
  protected issueId(make: () => string): string {
    const id = this.replayIds?.shift() ?? make();
    this.drawnIds?.push(id);
    return id;
  }

  /**
   * The local cloud's own look at its state (the gateway resolving routes):
   * not an AWS call, so it is neither recorded nor subject to injected faults.
   */
  async peek(operation: string, input: OpInput): Promise<OpOutput> {
    return await this.handlerFor(operation)(input);
  }

  private handlerFor(operation: string): OpHandler {
    const handler = Object.hasOwn(this.operations, operation) ? this.operations[operation] : undefined;
    if (!handler) {
      throw new AwsError("UnknownOperationException", `${this.service}: ${operation} is not supported by the chatctl local cloud`, 400);
    }
    return handler;
  }
}

/** A raw HTTP request as the local cloud's front door received it. */
export interface WireRequest {
  readonly method: string;
  readonly path: string; // without the query string, percent-decoded per segment by the adapter
  readonly rawPath: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string | Buffer;
}

/**
 * A service's wire protocol in front of its model. The front door picks the
 * adapter by the SigV4 credential scope's service name (the `signingName`).
 */
export interface WireAdapter {
  readonly signingName: string; // "lambda", "apigateway", "iam", "sts", "logs", "dynamodb"
  /** Bodies beyond this are cut off (413) rather than buffered; the front door's own bound otherwise. */
  readonly maxRequestBytes?: number;
  handle(req: WireRequest): Promise<WireResponse>;
}

/** A function as the Lambda runner needs it; the Lambda model hands these out. */
export interface LocalFunction {
  readonly functionName: string;
  readonly functionArn: string;
  readonly runtime: string;
  readonly handler: string; // "index.handler": file "index" (.js/.mjs/.cjs) in the zip, export "handler"
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly environment: Readonly<Record<string, string>>;
  readonly codeSha256: string; // changes when the code changes: the runner restarts warm workers then
  readonly zip: Uint8Array;
}

export interface InvokeResult {
  readonly statusCode: number; // 200 for RequestResponse
  readonly payload: Uint8Array; // the handler's JSON result, or the error object when functionError is set
  readonly functionError?: "Unhandled" | "Handled";
  readonly logTail?: string; // last 4 KB of the invocation's log, for LogType=Tail
}

/** Runs a function's code; the local cloud's runner implements it, the Lambda model calls it for Invoke. */
export interface FunctionInvoker {
  invoke(fn: LocalFunction, payload: Uint8Array): Promise<InvokeResult>;
}
