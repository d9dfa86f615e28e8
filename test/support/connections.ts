import type { ConnectionsModel, OpenConnection } from "../../src/local/models/connections.js";

/** A connection opened in the model without a socket: what @connections sent it, and whether it was ended. */
export interface TestConnection {
  readonly connectionId: string;
  readonly received: Buffer[];
  readonly ended: boolean;
  /** The client goes away (as the gateway reports a closed socket): later calls answer 410. */
  leave(): void;
}

/** Opens `connectionId` in the model as the gateway would once $connect accepted it. */
export function openConnection(model: ConnectionsModel, connectionId: string, facts: Partial<Omit<OpenConnection, "connectionId">> = {}): TestConnection {
  const received: Buffer[] = [];
  let ended = false;
  model.connect(
    { connectionId, apiId: "test-api", stage: "prod", connectedAt: Date.now(), sourceIp: "198.51.100.1", userAgent: "test-client", ...facts },
    {
      send: (data) => {
        received.push(Buffer.from(data));
        return true;
      },
      close: () => {
        ended = true;
        model.disconnect(connectionId, 1000, "");
      },
    },
  );
  return {
    connectionId,
    received,
    get ended() {
      return ended;
    },
    leave: () => model.disconnect(connectionId, 1001, "Going away"),
  };
}
