export { createGateway, API_GATEWAY_LIMITS, type Gateway, type GatewayOptions, type Limits, type ConnectionInfo } from "./gateway.js";
export {
  directoryFromModels,
  invokeThroughLambdaModel,
  functionNameOfArn,
  functionArnOfIntegrationUri,
  type ApiView,
  type ApiTarget,
  type GatewayDirectory,
  type InvokeFunction,
  type DirectoryOptions,
  type LambdaInvokeOptions,
} from "./directory.js";
export { policyAllowsApiGateway, arnLike, type InvokeSource } from "./permission.js";
export { selectRouteKey } from "./events.js";
export { createSniffingServer, type SniffingServer, type SniffingServerOptions } from "./server.js";
export { callerOf, observedConnectionsWire, type GatewayObserver, type ObservedConnect, type ObservedMessage, type ObservedManagement } from "./observer.js";
