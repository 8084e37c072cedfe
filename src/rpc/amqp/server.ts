import amqp from 'amqplib';
import type { Logger } from 'pino';
import { redactUrlPassword } from '../../observability/redact.js';
import { VOLUME_RPC_CALLS, type VolumeRpc } from '../rpc.js';
import { encodeError, queueFor, type Reply, type Request } from './wire.js';
import { connectBus } from './connection.js';

/** Requests a volume service works on at once; more wait in its queue. */
const PREFETCH = 64;

export interface VolumeRpcServer {
  close(): Promise<void>;
}

async function answer(handler: VolumeRpc, content: Buffer): Promise<Reply> {
  let request: Request;
  try {
    request = JSON.parse(content.toString('utf8')) as Request;
  } catch {
    return { error: { message: 'unreadable volume RPC request' } };
  }
  if (!VOLUME_RPC_CALLS.includes(request.method) || !Array.isArray(request.args)) {
    return { error: { message: `unknown volume RPC call ${String(request.method)}` } };
  }
  try {
    const call = handler[request.method] as (...args: unknown[]) => Promise<unknown>;
    return { result: (await call.apply(handler, request.args)) ?? null };
  } catch (err) {
    return encodeError(err);
  }
}

/**
 * The storage host's side of VolumeRpc over RabbitMQ: answers the calls on its host's
 * queue with `handler` (the manager, reached in process). The queue is exclusive to this
 * service's connection: a second volume service for the same host is refused at start,
 * and when this one stops, its queue goes with it, so callers learn at once that nobody
 * serves the host instead of waiting out a timeout. A lost connection is opened again
 * (with backoff) until it comes back.
 */
export async function serveVolumeRpc(url: string, storageHost: string, handler: VolumeRpc, logger: Logger): Promise<VolumeRpcServer> {
  const queue = queueFor(storageHost);
  const setup = async (model: amqp.ChannelModel) => {
    const channel = await model.createChannel();
    // A channel the broker closed (it should not) takes the connection along, and recovery brings both back.
    channel.on('error', () => undefined);
    channel.on('close', () => void model.close().catch(() => undefined));
    await channel.prefetch(PREFETCH);
    try {
      await channel.assertQueue(queue, { exclusive: true, durable: false, autoDelete: true });
    } catch (err) {
      if ((err as { code?: number }).code === 405) throw new Error(`another volume service already serves host ${storageHost}`);
      throw err;
    }
    await channel.consume(queue, (message) => {
      if (!message) return;
      void answer(handler, message.content).then((reply) => {
        const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
        try {
          if (replyTo) channel.sendToQueue(replyTo, Buffer.from(JSON.stringify(reply)), { correlationId, contentType: 'application/json' });
          channel.ack(message);
        } catch {
          // The channel went with its connection; the caller's call fails with it.
        }
      });
    });
  };
  let bus: amqp.RecoveringChannelModel;
  try {
    bus = await connectBus(url, setup);
  } catch (err) {
    throw new Error(`cannot serve volume RPC on ${redactUrlPassword(url)}: ${(err as Error).message}`);
  }
  bus.on('error', () => undefined);
  bus.on('disconnect', () => logger.warn({ queue }, 'message bus connection lost; reconnecting'));
  bus.on('connect', () => logger.info({ queue }, 'serving volume RPC'));
  logger.info({ queue }, 'serving volume RPC');
  return { close: () => bus.close().catch(() => undefined) };
}
