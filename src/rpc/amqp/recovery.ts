/**
 * How both sides reconnect to RabbitMQ: a start fails at once when the broker is
 * unreachable (the operator sees it), and a connection lost later is retried without
 * end, at most every five seconds.
 */
export const RECOVERY = { initialMaxRetries: 0, initialDelay: 200, maxDelay: 5000 } as const;
