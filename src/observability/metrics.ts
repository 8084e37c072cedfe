// Prometheus metrics: what an operator graphs and alerts on. Request and storage-step
// counts and durations as they happen; volume and attachment counts by status, and the
// iSCSI target's sessions and logins, read when scraped. Labels are bounded sets (route
// patterns, status codes, step names), never ids, URLs or anything a caller sends.

import { createServer, type Server } from 'node:http';
import client from 'prom-client';
import { VOLUME_RPC_CALLS, type VolumeRpc, type VolumeRpcCall } from '../rpc/rpc.js';
import type { TargetStats } from '../targets/target.js';
import type { StatusCounts } from '../volumes/inventory.js';

/** Seconds: from a cached read to a slow export on a loaded host. */
const DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry = new client.Registry();
  private readonly requests: client.Counter<'method' | 'route' | 'status'>;
  private readonly requestSeconds: client.Histogram<'method' | 'route'>;
  private readonly rpcCalls: client.Counter<'call' | 'outcome'>;
  private readonly rpcSeconds: client.Histogram<'call'>;
  private readonly keystoneCalls: client.Counter<'call' | 'outcome'>;
  private readonly keystoneSeconds: client.Histogram<'call'>;
  private readonly tokenCacheHits: client.Counter;

  constructor() {
    client.collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.requests = new client.Counter({
      name: 'cinderblock_api_requests_total',
      help: 'Block Storage API requests answered, by method, route pattern and HTTP status.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.requestSeconds = new client.Histogram({
      name: 'cinderblock_api_request_duration_seconds',
      help: 'Time to answer a Block Storage API request, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.rpcCalls = new client.Counter({
      name: 'cinderblock_volume_rpc_calls_total',
      help: 'Storage-host steps (create, initialize_connection, ...) called, by step and outcome (ok or error).',
      labelNames: ['call', 'outcome'],
      registers,
    });
    this.rpcSeconds = new client.Histogram({
      name: 'cinderblock_volume_rpc_duration_seconds',
      help: 'Time a storage-host step took, as its caller saw it.',
      labelNames: ['call'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.keystoneCalls = new client.Counter({
      name: 'cinderblock_keystone_calls_total',
      help: 'Calls to Keystone: token validations (outcome valid, invalid or unavailable) and this service\'s own token (issued or unavailable).',
      labelNames: ['call', 'outcome'],
      registers,
    });
    this.keystoneSeconds = new client.Histogram({
      name: 'cinderblock_keystone_call_duration_seconds',
      help: 'Time a call to Keystone took.',
      labelNames: ['call'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.tokenCacheHits = new client.Counter({
      name: 'cinderblock_keystone_token_cache_hits_total',
      help: 'Tokens whose validation was answered from the cache, without asking Keystone.',
      registers,
    });
  }

  keystoneCall(call: 'validate' | 'issue', outcome: string, seconds: number): void {
    this.keystoneCalls.inc({ call, outcome });
    this.keystoneSeconds.observe({ call }, seconds);
  }

  tokenCacheHit(): void {
    this.tokenCacheHits.inc();
  }

  /** One answered request; `route` is the route's pattern, or null when none matched. */
  observeRequest(method: string, route: string | null, status: number, seconds: number): void {
    const pattern = route ?? 'unmatched';
    this.requests.inc({ method, route: pattern, status: String(status) });
    this.requestSeconds.observe({ method, route: pattern }, seconds);
  }

  /** `rpc`, with every call counted and timed. */
  meterRpc(rpc: VolumeRpc): VolumeRpc {
    const metered = {} as Record<VolumeRpcCall, (...args: unknown[]) => Promise<unknown>>;
    for (const call of VOLUME_RPC_CALLS) {
      const original = (rpc[call] as (...args: unknown[]) => Promise<unknown>).bind(rpc);
      metered[call] = async (...args) => {
        const stop = this.rpcSeconds.startTimer({ call });
        try {
          const result = await original(...args);
          this.rpcCalls.inc({ call, outcome: 'ok' });
          return result;
        } catch (err) {
          this.rpcCalls.inc({ call, outcome: 'error' });
          throw err;
        } finally {
          stop();
        }
      };
    }
    return metered as unknown as VolumeRpc;
  }

  /** Volume and attachment counts by status, read from the database at each scrape. */
  countStatuses(read: () => Promise<StatusCounts>): void {
    // A scrape collects every metric at once: both gauges share one read.
    let current: Promise<StatusCounts> | null = null;
    const counts = () => (current ??= read().finally(() => (current = null)));
    const gauge = (name: string, help: string, label: 'status' | 'attach_status', pick: (c: StatusCounts) => Record<string, number>) =>
      new client.Gauge({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        async collect() {
          const byValue = pick(await counts());
          this.reset();
          for (const [value, n] of Object.entries(byValue)) this.set({ [label]: value }, n);
        },
      });
    gauge('cinderblock_volumes', 'Volumes by status (deleted ones excluded).', 'status', (c) => c.volumes);
    gauge('cinderblock_attachments', 'Attachments by attach_status (deleted ones excluded).', 'attach_status', (c) => c.attachments);
  }

  /** The target's sessions and logins, for helpers that report them. */
  watchTarget(stats: () => TargetStats): void {
    const registers = [this.registry];
    new client.Gauge({
      name: 'cinderblock_iscsi_sessions',
      help: 'iSCSI sessions logged in to a volume target now.',
      registers,
      collect() {
        this.set(stats().sessions);
      },
    });
    new client.Counter({
      name: 'cinderblock_iscsi_logins_total',
      help: 'iSCSI logins to a volume target since start, by outcome (ok, or refused for credentials or access).',
      labelNames: ['outcome'],
      registers,
      collect() {
        const { loginsSucceeded, loginsFailed } = stats();
        this.reset();
        this.inc({ outcome: 'ok' }, loginsSucceeded);
        this.inc({ outcome: 'refused' }, loginsFailed);
      },
    });
  }

  /** Serves GET /metrics on `host:port`; resolves once listening. */
  async listen(host: string, port: number): Promise<Server> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?', 1)[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not Found: metrics are at GET /metrics\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        () => res.writeHead(500, { 'Content-Type': 'text/plain' }).end('metrics could not be collected\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server;
  }
}
