import { join } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createWireDispatch, dispatcherOf } from "./front-door.js";
import { serveInProcess } from "./in-process-http.js";
import { ApiGatewayModel } from "./models/apigateway.js";
import { ApiGatewayV2Model } from "./models/apigatewayv2.js";
import { IamModel } from "./models/iam.js";
import { LambdaModel } from "./models/lambda.js";
import { LogsModel } from "./models/logs.js";
import { StsModel } from "./models/sts.js";
import { ConnectionsModel } from "./models/connections.js";
import { connectionsWire, isConnectionsUrl } from "./wire/connections.js";
import { apigatewayByPath, apigatewayWire } from "./wire/apigateway.js";
import { apigatewayv2Wire } from "./wire/apigatewayv2.js";
import { lambdaWire } from "./wire/lambda.js";
import { iamWire, stsWire } from "./wire/query.js";
import { logsWire } from "./wire/json.js";
import { startDynamo, type DynamoBackend } from "./dynamodb.js";
import { createGateway, createSniffingServer, observedConnectionsWire, type Gateway, type GatewayObserver, type Limits, type SniffingServer } from "./gateway/index.js";
import { directoryFromModels, invokeThroughLambdaModel } from "./gateway/directory.js";
import { logGroupOfArn } from "./gateway/stage-limits.js";
import { localSecretFor } from "./credentials.js";
import { LambdaRunner } from "./runner/runner.js";
import { loadOrCreateLocalCertificate } from "./tls.js";
import { persistControlPlane, type ReplayReport } from "./persistence.js";
import type { BeforeCall, CallRecord, ServiceModel } from "./service.js";

/** The account id every local resource lives in. */
export const LOCAL_ACCOUNT_ID = "000000000000";

export interface LocalCloudOptions {
  readonly host?: string; // 127.0.0.1 unless told otherwise
  readonly port?: number; // 0: any free port
  readonly region?: string;
  /** Keep tables (and the local certificate) here across restarts; in memory otherwise. */
  readonly persistDir?: string;
  /** Where the self-signed certificate is kept when there is no persistDir. */
  readonly certDir: string;
  readonly limits?: Partial<Limits>;
  /** Control-plane latency, as a real region has (benchmarks): added to every AWS call. */
  readonly callDelayMs?: number;
  /** Lambda's state transitions (Pending -> Active), in ms; 0 by default. */
  readonly stateTransitionMs?: number;
  /** The local cloud's own remarks (the gateway's unless `source` says otherwise), for the dev log. */
  readonly logger?: (line: string, source?: "gateway" | "dynamodb") => void;
  /** Every line a function logs, as it is logged (for `chatctl dev`'s terminal). */
  readonly onFunctionLog?: (functionName: string, message: string) => void;
  /** Told of each $connect verdict, message and @connections call (the dev console). */
  readonly observer?: GatewayObserver;
  /**
   * Offered every plain (unsigned) request before the AWS services; returns true when it
   * answered (the dev console's page and stream).
   */
  readonly onRequest?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export interface LocalCloud {
  readonly url: string; // http://127.0.0.1:PORT: every AWS service, and the WebSocket stages
  readonly port: number;
  readonly host: string;
  readonly region: string;
  readonly models: {
    /** API Gateway v1: only the account settings (the CloudWatch Logs role of access logs). */
    readonly apigateway: ApiGatewayModel;
    readonly apigatewayv2: ApiGatewayV2Model;
    readonly lambda: LambdaModel;
    readonly iam: IamModel;
    readonly logs: LogsModel;
    readonly sts: StsModel;
    /** The @connections API: the open WebSocket connections (observe them with `subscribe`). */
    readonly connections: ConnectionsModel;
  };
  readonly dynamodb: DynamoBackend;
  readonly gateway: Gateway;
  readonly runner: LambdaRunner;
  readonly certificate: { readonly ca: string };
  /** With persistDir: how much of the control plane came back from the last run. */
  readonly restored: ReplayReport | undefined;
  /** Every AWS call made to the local cloud, DynamoDB's included. */
  calls(): CallRecord[];
  /** Runs before every AWS call (fault injection); undefined to clear. */
  setBeforeCall(hook: BeforeCall | undefined): void;
  close(): Promise<void>;
}

/**
 * The whole AWS side of a chat stack on one port: the control plane (API
 * Gateway v2, Lambda, IAM, STS, CloudWatch Logs, DynamoDB) in their wire
 * protocols, the WebSocket stages and their @connections API, and a Lambda
 * runner. TLS and plain HTTP share the port, so handlers that build
 * `https://{domainName}/{stage}` from the event reach the @connections API too.
 */
export async function startLocalCloud(opts: LocalCloudOptions): Promise<LocalCloud> {
  const host = opts.host ?? "127.0.0.1";
  const region = opts.region ?? "ap-northeast-1";
  let port = 0;
  const url = () => `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}`;

  const iam = new IamModel({ accountId: LOCAL_ACCOUNT_ID });
  const sts = new StsModel({ accountId: LOCAL_ACCOUNT_ID });
  const apigateway = new ApiGatewayModel({ trustPolicyOf: (arn) => iam.trustPolicyOf(arn) });
  const logs = new LogsModel({ region, accountId: LOCAL_ACCOUNT_ID });
  const apigatewayv2 = new ApiGatewayV2Model({ region, accountId: LOCAL_ACCOUNT_ID, endpointFor: (apiId) => `${url().replace(/^http/, "ws")}/${apiId}` });
  const lambda = new LambdaModel({
    region,
    accountId: LOCAL_ACCOUNT_ID,
    roles: { lookup: (arn) => (iam.roleCreatedAt(arn) === undefined ? undefined : { createdAt: iam.roleCreatedAt(arn)! }) },
    ...(opts.stateTransitionMs !== undefined ? { stateTransitionMs: opts.stateTransitionMs } : {}),
  });
  // Before anything that listens: a failure here leaves nothing to close.
  const certificate = await loadOrCreateLocalCertificate(opts.persistDir ? join(opts.persistDir, "tls") : opts.certDir);
  const dynamodb = await startDynamo({
    ...(opts.persistDir ? { persistDir: join(opts.persistDir, "dynamodb") } : {}),
    ...(opts.logger ? { logger: (line: string) => opts.logger?.(line, "dynamodb") } : {}),
    accountId: LOCAL_ACCOUNT_ID,
    region,
  });

  const runner = new LambdaRunner({
    endpointUrl: url,
    region,
    trustedCertificates: certificate.ca,
    redirectExecuteApi: true,
    // Bound below, once the server exists; no worker starts before it listens.
    // Signed AWS calls are parsed in process; anything else goes to the http.Server below.
    acceptInProcess: (socket) => serveInProcess(socket, wireDispatch, (plain) => server.http.emit("connection", plain)),
    logSink: (fn, lines, stream) => {
      logs.append(stream.logGroupName, stream.logStreamName, lines);
      if (opts.onFunctionLog) for (const l of lines) opts.onFunctionLog(fn, l.message);
    },
  });
  lambda.setInvoker(runner);

  const connections = new ConnectionsModel(opts.limits?.maxMessageBytes !== undefined ? { maxPostBytes: opts.limits.maxMessageBytes } : {});
  const gateway = createGateway({
    directory: directoryFromModels(apigatewayv2),
    connections,
    invoke: invokeThroughLambdaModel(lambda),
    region,
    secretFor: localSecretFor,
    // Access logs land in the Logs model like a function's console output (one stream, "access").
    accessLog: (destinationArn, line, at) => {
      const group = logGroupOfArn(destinationArn);
      if (group) logs.append(group, "access", [{ timestamp: at, message: line }]);
    },
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.observer ? { observer: opts.observer } : {}),
  });

  const models: ServiceModel[] = [apigateway, apigatewayv2, lambda, iam, logs, sts];
  const management = opts.observer ? observedConnectionsWire(connectionsWire(connections), opts.observer) : connectionsWire(connections);
  // Unsigned @connections calls (curl, tests) are served too; every other call is routed by its SigV4 scope.
  const wireDispatch = createWireDispatch(
    [apigatewayByPath(apigatewayWire(apigateway), apigatewayv2Wire(apigatewayv2)), lambdaWire(lambda), iamWire(iam), stsWire(sts), logsWire(logs), dynamodb.wire, management],
    (url) => (isConnectionsUrl(url) ? management : undefined),
  );
  const dispatch = dispatcherOf(wireDispatch);

  let userHook: BeforeCall | undefined;
  const delay = opts.callDelayMs ?? 0;
  const hook: BeforeCall = async (service, operation, input) => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (userHook) await userHook(service, operation, input);
  };
  // Installed only when there is something to do: the hook costs DynamoDB a second parse
  // of every request body, and every chat message makes DynamoDB calls.
  const installHook = () => {
    const active = delay > 0 || userHook !== undefined ? hook : undefined;
    for (const m of models) m.beforeCall = active;
    dynamodb.beforeCall = active;
  };
  installHook();

  const server: SniffingServer = createSniffingServer({
    request: (req: IncomingMessage, res: ServerResponse) => {
      if (!req.headers.authorization && opts.onRequest?.(req, res)) return;
      void dispatch(req, res);
    },
    upgrade: (req, socket, head) => gateway.handleUpgrade(req, socket, head),
    tls: { key: certificate.key, cert: certificate.cert },
  });
  const close = async (): Promise<void> => {
    await gateway.close();
    await runner.close();
    await server.close();
    await dynamodb.close();
  };
  let restored: ReplayReport | undefined;
  try {
    port = await server.listen(opts.port ?? 0, host);
    // Replayed once the port is known: APIs record their endpoint when created.
    restored = opts.persistDir ? await persistControlPlane([apigateway, apigatewayv2, lambda, iam, logs], join(opts.persistDir, "control-plane.jsonl")) : undefined;
  } catch (err) {
    // A port in use, say: what did start would keep the process alive after the error.
    await close();
    throw err;
  }

  return {
    get url() {
      return url();
    },
    port,
    host,
    region,
    models: { apigateway, apigatewayv2, lambda, iam, logs, sts, connections },
    dynamodb,
    gateway,
    runner,
    certificate: { ca: certificate.ca },
    restored,
    calls: () => [...models.flatMap((m) => m.calls), ...dynamodb.calls].sort((a, b) => a.at - b.at),
    setBeforeCall(h) {
      userHook = h;
      installHook();
    },
    close,
  };
}
