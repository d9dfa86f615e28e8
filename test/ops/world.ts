import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { IAMClient } from "@aws-sdk/client-iam";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { strToU8, zipSync } from "fflate";
import { createClients, type AwsClients } from "../../src/aws/clients.js";
import { startDynamo, type DynamoBackend } from "../../src/local/dynamodb.js";
import { startFrontDoor, type FrontDoor } from "../../src/local/front-door.js";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { IamModel } from "../../src/local/models/iam.js";
import { LambdaModel } from "../../src/local/models/lambda.js";
import { LogsModel } from "../../src/local/models/logs.js";
import { plug } from "../support/plug.js";

export const region = "ap-northeast-1";
export const accountId = "123456789012";
export const credentials = { accessKeyId: "test", secretAccessKey: "test" };

/** The service models one test talks to, small pages so pagination is exercised. */
export interface Models {
  readonly apigw: ApiGatewayV2Model;
  readonly lambda: LambdaModel;
  readonly iam: IamModel;
  readonly logs: LogsModel;
}

export function makeModels(opts: { rolePropagationMs?: number; stateTransitionMs?: number } = {}): Models {
  const iam = new IamModel({ accountId, pageSize: 2 });
  return {
    apigw: new ApiGatewayV2Model({ region, accountId, pageSize: 2 }),
    iam,
    lambda: new LambdaModel({
      region,
      accountId,
      pageSize: 2,
      rolePropagationMs: opts.rolePropagationMs ?? 0,
      stateTransitionMs: opts.stateTransitionMs ?? 0,
      roles: {
        lookup: (arn) => {
          const createdAt = iam.roleCreatedAt(arn);
          return createdAt === undefined ? undefined : { createdAt };
        },
      },
    }),
    logs: new LogsModel({ region, accountId, pageSize: 2 }),
  };
}

const sdks = async () => ({
  apigw: await import("@aws-sdk/client-apigatewayv2"),
  lambda: await import("@aws-sdk/client-lambda"),
  iam: await import("@aws-sdk/client-iam"),
  logs: await import("@aws-sdk/client-cloudwatch-logs"),
});

/** Clients whose control-plane calls go to the models; DynamoDB goes to `endpoint` when given. */
export async function clientsOn(models: Models, endpoint?: string): Promise<AwsClients> {
  const clients = createClients({ region, credentials, ...(endpoint ? { endpoint } : {}) });
  const sdk = await sdks();
  plug(mockClient(clients.apigw()), models.apigw, sdk.apigw);
  plug(mockClient(clients.lambda()), models.lambda, sdk.lambda);
  plug(mockClient(clients.iam()), models.iam, sdk.iam);
  plug(mockClient(clients.logs()), models.logs, sdk.logs);
  return clients;
}

/**
 * For commands run through the CLI, which make their own clients: every instance
 * of these classes is served by the models. Call the returned function to undo.
 */
export async function plugClasses(models: Models): Promise<() => void> {
  const sdk = await sdks();
  const mocks = [mockClient(ApiGatewayV2Client), mockClient(LambdaClient), mockClient(IAMClient), mockClient(CloudWatchLogsClient)];
  plug(mocks[0] as object, models.apigw, sdk.apigw);
  plug(mocks[1] as object, models.lambda, sdk.lambda);
  plug(mocks[2] as object, models.iam, sdk.iam);
  plug(mocks[3] as object, models.logs, sdk.logs);
  return () => {
    for (const m of mocks) m.restore();
  };
}

/** dynalite behind the front door: the real DynamoDBClient over HTTP. */
export interface LocalDynamo {
  readonly url: string;
  close(): Promise<void>;
}

export async function startLocalDynamo(): Promise<LocalDynamo> {
  const backend: DynamoBackend = await startDynamo({ region, accountId });
  const door: FrontDoor = await startFrontDoor([backend.wire]);
  return {
    url: door.url,
    close: async () => {
      await door.close();
      await backend.close();
    },
  };
}

/** Sleeps that do not wait: retries and polls run at once. */
export const noSleep = async (): Promise<void> => {};

/** A function's code that Lambda accepts: index.mjs exporting handler. */
export function tinyZip(body = "export const handler = async () => ({ statusCode: 200 });"): Uint8Array {
  return zipSync({ "index.mjs": strToU8(body) }, { mtime: new Date("2020-01-01T00:00:00Z") });
}

/** A function made directly in the model (no role checks needed: any role ARN is accepted without a directory entry). */
export async function modelFunction(models: Models, name: string): Promise<string> {
  const out = await models.lambda.dispatch("CreateFunction", {
    FunctionName: name,
    Runtime: "nodejs22.x",
    Role: await roleFor(models, name),
    Handler: "index.handler",
    Code: { ZipFile: tinyZip() },
  });
  return String(out.FunctionArn);
}

async function roleFor(models: Models, name: string): Promise<string> {
  const out = await models.iam.dispatch("CreateRole", {
    RoleName: `fixture-${name}`,
    AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
  });
  return String((out.Role as { Arn: string }).Arn);
}
