import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import type { Logger } from 'pino';
import { redactUrlPassword } from '../../observability/redact.js';
import type { BackupLocation } from '../../backups/driver.js';
import type { BackupRequest, BackupResult } from '../../manager/backups.js';
import type { ConnectionInfo, Connector } from '../../volumes/types.js';
import type { BackendObject } from '../../drivers/driver.js';
import type { BackendKind, ConnectOptions, VolumeRpc, VolumeRpcCall } from '../rpc.js';
import { connectBus } from './connection.js';
import { decodeError, queueFor, type Reply, type Request } from './wire.js';

/** RabbitMQ's direct reply-to: answers come straight back on the channel that asked. */
const REPLY_TO = 'amq.rabbitmq.reply-to';

interface Pending {
  host: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * The API side of VolumeRpc over RabbitMQ: each call is a message on the storage host's
 * queue and waits for its answer. A call nobody can take (no volume service for that
 * host) fails at once; one left unanswered fails after `timeoutMs` and its message
 * expires with it, so a volume service that comes back never acts on a request its
 * caller gave up on. A lost connection fails the calls in flight, and calls fail at once
 * until recovery has it back.
 */
export class AmqpVolumeRpc implements VolumeRpc {
  private bus: amqp.RecoveringChannelModel | null = null;
  /** The channel of the current connection; null while there is none. */
  private channel: amqp.Channel | null = null;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly url: string,
    /** The storage host serving a volume (its os-vol-host-attr:host), or null if it has none. */
    private readonly hostOf: (volumeId: string) => Promise<string | null>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Connects now, so a service that cannot reach RabbitMQ fails at start rather than at its first call. */
  async start(): Promise<void> {
    try {
      this.bus = await connectBus(this.url, (model) => this.setup(model));
    } catch (err) {
      throw new Error(`cannot reach the message bus at ${redactUrlPassword(this.url)}: ${(err as Error).message}`);
    }
    this.bus.on('error', () => undefined);
    this.bus.on('disconnect', (err: Error) => {
      this.channel = null;
      this.logger.warn({ err: err.message }, 'message bus connection lost; calls in flight failed');
      this.failAll(new Error('the connection to the message bus was lost before the volume service answered'));
    });
  }

  async close(): Promise<void> {
    this.channel = null;
    await this.bus?.close().catch(() => undefined);
    this.failAll(new Error('the volume RPC client closed'));
  }

  createVolume(volumeId: string, sizeGiB: number) {
    return this.call<void>('createVolume', [volumeId, sizeGiB]);
  }
  cloneVolume(volumeId: string, sourceId: string, sizeGiB: number) {
    return this.call<void>('cloneVolume', [volumeId, sourceId, sizeGiB]);
  }
  createSnapshot(volumeId: string, snapshotId: string) {
    return this.call<void>('createSnapshot', [volumeId, snapshotId]);
  }
  deleteSnapshot(volumeId: string, snapshotId: string) {
    return this.call<void>('deleteSnapshot', [volumeId, snapshotId]);
  }
  createVolumeFromSnapshot(volumeId: string, snapshotId: string, sizeGiB: number) {
    return this.call<void>('createVolumeFromSnapshot', [volumeId, snapshotId, sizeGiB]);
  }
  revertToSnapshot(volumeId: string, snapshotId: string) {
    return this.call<void>('revertToSnapshot', [volumeId, snapshotId]);
  }
  deleteVolume(volumeId: string) {
    return this.call<void>('deleteVolume', [volumeId]);
  }
  extendVolume(volumeId: string, newSizeGiB: number) {
    return this.call<void>('extendVolume', [volumeId, newSizeGiB]);
  }
  initializeConnection(volumeId: string, connector: Connector, opts: ConnectOptions) {
    return this.call<ConnectionInfo>('initializeConnection', [volumeId, connector, opts]);
  }
  terminateConnection(volumeId: string, connector: Connector | null) {
    return this.call<void>('terminateConnection', [volumeId, connector]);
  }
  releaseAttachment(volumeId: string, attachmentId: string) {
    return this.call<void>('releaseAttachment', [volumeId, attachmentId]);
  }
  adoptLegacyConnection(volumeId: string, attachmentId: string, hostName: string | null) {
    return this.call<Connector | null>('adoptLegacyConnection', [volumeId, attachmentId, hostName]);
  }
  revokeAll(volumeId: string) {
    return this.call<void>('revokeAll', [volumeId]);
  }
  backupVolume(volumeId: string, snapshotId: string | null, req: BackupRequest) {
    return this.call<BackupResult>('backupVolume', [volumeId, snapshotId, req]);
  }
  restoreBackup(volumeId: string, chain: BackupLocation[]) {
    return this.call<void>('restoreBackup', [volumeId, chain]);
  }
  deleteBackup(volumeId: string, at: BackupLocation) {
    return this.call<void>('deleteBackup', [volumeId, at]);
  }
  hasBackup(volumeId: string, service: string, at: BackupLocation) {
    return this.call<boolean>('hasBackup', [volumeId, service, at]);
  }
  refreshLimits(volumeId: string) {
    return this.call<void>('refreshLimits', [volumeId]);
  }
  listBackendObjects(storageHost: string, kind: BackendKind) {
    return this.send<BackendObject[]>(storageHost, 'listBackendObjects', [storageHost, kind]);
  }
  sizeOfExisting(volumeId: string, kind: BackendKind, sourceName: string) {
    return this.call<number>('sizeOfExisting', [volumeId, kind, sourceName]);
  }
  manageExisting(volumeId: string, kind: BackendKind, id: string, sourceName: string) {
    return this.call<void>('manageExisting', [volumeId, kind, id, sourceName]);
  }
  unmanageVolume(volumeId: string) {
    return this.call<void>('unmanageVolume', [volumeId]);
  }
  getLogLevels(storageHost: string, prefix: string) {
    return this.send<Record<string, string>>(storageHost, 'getLogLevels', [storageHost, prefix]);
  }
  setLogLevels(storageHost: string, prefix: string, level: string) {
    return this.send<void>(storageHost, 'setLogLevels', [storageHost, prefix, level]);
  }

  /** A call about a volume goes to the storage host serving it. */
  private async call<T>(method: VolumeRpcCall, args: [volumeId: string, ...rest: unknown[]]): Promise<T> {
    const host = await this.hostOf(args[0]);
    if (!host) throw new Error(`volume ${args[0]} has no storage host: none was up in its zone when it was created`);
    return this.send<T>(host, method, args);
  }

  private async send<T>(host: string, method: VolumeRpcCall, args: unknown[]): Promise<T> {
    const channel = this.channel;
    if (!channel) throw new Error(`the message bus at ${redactUrlPassword(this.url)} is not connected`);
    const correlationId = randomUUID();
    const request: Request = { method, args };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`volume service ${host} did not answer ${method} within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
      this.pending.set(correlationId, { resolve: resolve as (value: unknown) => void, reject, timer, host });
      try {
        channel.sendToQueue(queueFor(host), Buffer.from(JSON.stringify(request)), {
          correlationId,
          replyTo: REPLY_TO,
          contentType: 'application/json',
          expiration: String(Math.ceil(this.timeoutMs)),
          // Returned to us at once when no queue takes it: no volume service for this host is running.
          mandatory: true,
        });
      } catch (err) {
        // The channel closed under us: nothing was sent, so nothing will answer.
        this.settle(correlationId, { error: { message: `the message bus refused the call: ${(err as Error).message}` } });
      }
    });
  }

  private async setup(model: amqp.ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    // A channel the broker closed (it should not) takes the connection along, and recovery brings both back.
    channel.on('error', () => undefined);
    channel.on('close', () => void model.close().catch(() => undefined));
    channel.on('return', (message: amqp.Message) => {
      const correlationId = message.properties.correlationId as string;
      const host = this.pending.get(correlationId)?.host;
      this.settle(correlationId, { error: { message: `no volume service for host ${host} is running` } });
    });
    await channel.consume(
      REPLY_TO,
      (message) => {
        if (!message) return;
        let reply: Reply;
        try {
          reply = JSON.parse(message.content.toString('utf8')) as Reply;
        } catch {
          reply = { error: { message: 'the volume service sent an unreadable answer' } };
        }
        this.settle(message.properties.correlationId as string, reply);
      },
      { noAck: true },
    );
    this.channel = channel;
  }

  private settle(correlationId: string, reply: Reply): void {
    const call = this.pending.get(correlationId);
    // Answered after its caller gave up: nobody is waiting.
    if (!call) return;
    this.pending.delete(correlationId);
    clearTimeout(call.timer);
    if ('error' in reply) call.reject(decodeError(reply.error));
    else call.resolve(reply.result);
  }

  private failAll(err: Error): void {
    for (const [id, call] of this.pending) {
      this.pending.delete(id);
      clearTimeout(call.timer);
      call.reject(err);
    }
  }
}
