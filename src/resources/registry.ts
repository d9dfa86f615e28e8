import { erase, type AnyResourceKind } from "./kind.js";
import { apigwApi } from "./apigw-api.js";
import { apigwAuthorizer } from "./apigw-authorizer.js";
import { apigwDeployment } from "./apigw-deployment.js";
import { apigwIntegration } from "./apigw-integration.js";
import { apigwRoute } from "./apigw-route.js";
import { apigwStage } from "./apigw-stage.js";
import { dynamodbTable } from "./dynamodb-table.js";
import { iamRole } from "./iam-role.js";
import { lambdaFunction } from "./lambda-function.js";
import { lambdaPermission } from "./lambda-permission.js";
import { logsGroup } from "./logs-group.js";

/** Every resource kind chatctl manages, by its kind name. */
export const registry: Readonly<Record<string, AnyResourceKind>> = Object.fromEntries(
  [
    erase(iamRole),
    erase(logsGroup),
    erase(dynamodbTable),
    erase(lambdaFunction),
    erase(lambdaPermission),
    erase(apigwApi),
    erase(apigwIntegration),
    erase(apigwAuthorizer),
    erase(apigwRoute),
    erase(apigwStage),
    erase(apigwDeployment),
  ].map((k) => [k.kind, k]),
);
