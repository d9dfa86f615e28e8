import { afterEach, beforeEach } from "vitest";
import { mockClient } from "aws-sdk-client-mock";
import * as sdk from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Client } from "@aws-sdk/client-apigatewayv2";
import { ApiGatewayV2Model } from "../../src/local/models/apigatewayv2.js";
import { plug } from "./plug.js";
import { TEST_REGION } from "./ctx.js";

export interface ApigwFixture {
  /** A fresh model per test (two items per page, so every list call pages), behind the real SDK client. */
  readonly model: ApiGatewayV2Model;
  /** A WebSocket API made in it before each test. */
  readonly apiId: string;
}

/** Registers beforeEach/afterEach for a kind test on API Gateway v2; read the fixture inside tests. */
export function useApigwModel(accountId = "123456789012"): ApigwFixture {
  const state: { model?: ApiGatewayV2Model; apiId?: string } = {};
  let mock: ReturnType<typeof mockClient> | undefined;
  beforeEach(async () => {
    state.model = new ApiGatewayV2Model({ region: TEST_REGION, accountId, pageSize: 2 });
    mock = mockClient(ApiGatewayV2Client);
    plug(mock, state.model, sdk);
    state.apiId = String((await state.model.dispatch("CreateApi", { Name: "my-chat", ProtocolType: "WEBSOCKET", RouteSelectionExpression: "$request.body.action" })).ApiId);
  });
  afterEach(() => mock?.restore());
  return {
    get model() {
      if (!state.model) throw new Error("useApigwModel: read the fixture inside a test");
      return state.model;
    },
    get apiId() {
      if (!state.apiId) throw new Error("useApigwModel: read the fixture inside a test");
      return state.apiId;
    },
  };
}

export const lambdaUri = (fn: string, region = TEST_REGION): string =>
  `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/arn:aws:lambda:${region}:123456789012:function:${fn}/invocations`;
