import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.js';
import type { EnforcedRule, Policy } from '../../policy/index.js';
import type { BlockStorage } from '../../volumes/service.js';
import type { RequestContext } from '../../volumes/types.js';
import { origin, Urls } from '../links.js';
import type { ApiVersion } from '../microversion.js';
import { check, type CompiledValidator } from '../validation.js';
import type { ViewEnv } from '../views/volumes.js';

export interface RouteDeps {
  storage: BlockStorage;
  config: Config;
  /** For what a view shows; what a caller may do is the storage's to decide. */
  policy: Policy;
}

/** What the request hooks established before a handler runs. */
export interface RequestState {
  ctx: RequestContext | null;
  version: ApiVersion | null;
  /** A rejected (out of range) version, still repeated in the response headers. */
  echoVersion: ApiVersion | null;
  /** The project id segment of the URL, when the client used the /v3/{project}/... form. */
  projectInUrl: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    cinder: RequestState;
  }
  interface FastifyContextConfig {
    /** A Block Storage API route: microversion negotiated and echoed. */
    api?: boolean;
    /** Below this microversion the route answers 404, as if it did not exist. */
    minVersion?: string;
  }
}

export function contextOf(req: FastifyRequest): RequestContext {
  const ctx = req.cinder.ctx;
  // Every /v3 route runs after the noauth hook, which either sets a context or answers itself.
  if (!ctx) throw new Error('request reached a handler without a context');
  return ctx;
}

export function versionOf(req: FastifyRequest): ApiVersion {
  const version = req.cinder.version;
  if (!version) throw new Error('request reached a handler without a negotiated version');
  return version;
}

export function urlsOf(req: FastifyRequest, config: Config): Urls {
  return new Urls(origin(req, config), req.cinder.projectInUrl);
}

/** Whether `rule` lets the caller see something of its own project (Cinder's fatal=False checks). */
export function shown(req: FastifyRequest, policy: Policy, rule: EnforcedRule): boolean {
  const ctx = contextOf(req);
  return policy.allows(rule, { project_id: ctx.projectId, user_id: ctx.userId }, ctx);
}

export function viewEnv(req: FastifyRequest, { config, policy }: RouteDeps): ViewEnv {
  return {
    ctx: contextOf(req),
    version: versionOf(req),
    urls: urlsOf(req, config),
    shows: {
      host: shown(req, policy, 'volume_extension:volume_host_attribute'),
      tenant: shown(req, policy, 'volume_extension:volume_tenant_attribute'),
      migration: shown(req, policy, 'volume_extension:volume_mig_status_attribute'),
    },
  };
}

/** Validates with the server's ajv (compiled once per schema object) and Cinder's wording. */
export function validate(req: FastifyRequest, schema: object, data: unknown): void {
  check(req.compileValidationSchema(schema) as CompiledValidator, data);
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(body);
}

/** What the answers Cinder builds as a bare webob.Response carry. */
export const WEBOB_EMPTY = 'text/html; charset=UTF-8';

/** Cinder's empty 202s still say application/json. */
export function sendEmpty(reply: FastifyReply, status: number, contentType = 'application/json'): FastifyReply {
  return reply.code(status).header('content-type', contentType).send('');
}

/**
 * A full page suggests there is more; Cinder says so with a `next` link carrying the same
 * query, the last item as its marker. A list that was not paged (no limit) has no next
 * page: a link there would hand a client following it the same list again, forever.
 * Given the count of every match (with_count), Cinder compares the limit with that instead.
 */
export function nextLinks(req: FastifyRequest, urls: Urls, path: string, items: readonly { id: string }[], limit: number | undefined, total?: number) {
  const last = items[items.length - 1];
  if (!last || limit === undefined || limit > (total || items.length)) return undefined;
  const query = new URLSearchParams(req.url.split('?', 2)[1] ?? '');
  query.set('marker', last.id);
  return [{ rel: 'next', href: `${urls.self(path)}?${query}` }];
}

/** POST (merge) and PUT (replace) of a whole metadata set at `url`, each answered with the set as it then is. */
export function registerMetadataSetRoutes(
  app: FastifyInstance,
  url: string,
  set: (req: FastifyRequest<Params<'id'>>, how: 'merge' | 'replace') => Promise<Record<string, string>>,
): void {
  for (const [method, how] of [
    ['POST', 'merge'],
    ['PUT', 'replace'],
  ] as const) {
    app.route<Params<'id'>>({ method, url, config: { api: true }, handler: async (req, reply) => sendJson(reply, 200, { metadata: await set(req, how) }) });
  }
}

export function optionalString(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export function bodyObject(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

export type Params<K extends string> = { Params: Record<K, string> };

/** A list answer as Cinder's views make it: the items, a next link when the page is full, and the count when asked (3.45). */
export function listBody<T extends { id: string }>(
  req: FastifyRequest,
  urls: Urls,
  collection: string,
  detail: boolean,
  items: readonly T[],
  plan: { query: { limit?: number }; withCount: boolean },
  count: number,
  view: (item: T) => unknown,
): Record<string, unknown> {
  const body: Record<string, unknown> = { [collection]: items.map(view) };
  const links = nextLinks(req, urls, detail ? `${collection}/detail` : collection, items, plan.query.limit);
  if (links) body[`${collection}_links`] = links;
  if (plan.withCount) body.count = count;
  return body;
}
