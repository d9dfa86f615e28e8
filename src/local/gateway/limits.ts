/** API Gateway's WebSocket quotas; tests shorten the timeouts. */
export interface Limits {
  /** A whole incoming message (128 KB); a larger one closes the connection with 1009. (@connections holds posts to the same size.) */
  readonly maxMessageBytes: number;
  /** One frame (32 KB); a larger incoming frame closes the connection with 1009. Outgoing messages are split into frames this size. */
  readonly maxFrameBytes: number;
  /** No incoming message (or ping) for this long closes the connection (10 min). */
  readonly idleTimeoutMs: number;
  /** Connection lifetime (2 h). */
  readonly maxConnectionMs: number;
  /** API Gateway gives up on an integration after 29 s. */
  readonly integrationTimeoutMs: number;
  /** And on a Lambda authorizer after 10 s (HTTP API quotas; the same bound holds for WebSocket $connect). */
  readonly authorizerTimeoutMs: number;
  /**
   * Per-connection token bucket for incoming messages. Not an API Gateway quota
   * (AWS throttles per account and route); here it keeps one runaway client
   * from starving the machine. Over the bound, a message is dropped and the
   * client gets a "Too Many Requests" error frame.
   */
  readonly messagesPerSecond: number;
  readonly messageBurst: number;
  /**
   * Bytes queued for one client beyond what its socket has taken (a reader that
   * stops reading). Not an API Gateway quota: AWS's side is not ours to see.
   * Here, a connection over it is dropped (its $disconnect reports 1006) and the
   * @connections POST that overflowed answers 410 Gone, so one stalled client
   * can neither hold the memory of the process nor slow anyone else.
   */
  readonly maxSendBufferBytes: number;
}

export const API_GATEWAY_LIMITS: Limits = {
  maxMessageBytes: 128 * 1024,
  maxFrameBytes: 32 * 1024,
  idleTimeoutMs: 10 * 60 * 1000,
  maxConnectionMs: 2 * 60 * 60 * 1000,
  integrationTimeoutMs: 29_000,
  authorizerTimeoutMs: 10_000,
  messagesPerSecond: 500,
  messageBurst: 1000,
  maxSendBufferBytes: 4 * 1024 * 1024,
};
