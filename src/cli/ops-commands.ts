import type { CommandClass } from "clipanion";
import { ConnectionDisconnectCommand } from "./ops/connection-disconnect.js";
import { ConnectionInfoCommand } from "./ops/connection-info.js";
import { ConnectionSendCommand } from "./ops/connection-send.js";
import { ConnectionsListCommand } from "./ops/connections-list.js";
import { DynamodbCreateCommand } from "./ops/dynamodb-create.js";
import { DynamodbScanCommand } from "./ops/dynamodb-scan.js";
import { LambdaCreateCommand } from "./ops/lambda-create.js";
import { LambdaLogsCommand } from "./ops/lambda-logs.js";
import { LambdaUpdateCommand } from "./ops/lambda-update.js";
import { WsAddRouteCommand } from "./ops/ws-add-route.js";
import { WsCreateCommand } from "./ops/ws-create.js";
import { WsDeleteCommand } from "./ops/ws-delete.js";
import { WsDeployCommand } from "./ops/ws-deploy.js";
import { WsGetUrlCommand } from "./ops/ws-get-url.js";
import { WsListCommand } from "./ops/ws-list.js";

// The ad-hoc operations of the original script.sh, under their old and grouped names.
export const opsCommands: CommandClass[] = [
  WsCreateCommand,
  WsDeleteCommand,
  WsListCommand,
  WsAddRouteCommand,
  WsDeployCommand,
  WsGetUrlCommand,
  ConnectionsListCommand,
  ConnectionSendCommand,
  ConnectionDisconnectCommand,
  ConnectionInfoCommand,
  LambdaCreateCommand,
  LambdaUpdateCommand,
  LambdaLogsCommand,
  DynamodbCreateCommand,
  DynamodbScanCommand,
];
