import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { CinderError } from '../errors.js';
import type { Logger } from '../observability/log.js';
import type { Policy } from '../policy/index.js';
import type { BlockStorage } from '../volumes/service.js';
import { handshakeHeaders, type Authentication } from './auth.js';
import { ApiFault, faultBody, GENERIC_500_MESSAGE, MALFORMED_REQUEST_MESSAGE, NOT_FOUND_MESSAGE } from './faults.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from './json-depth.js';
import { HEADER, negotiate } from './microversion.js';
import { registerAttachmentRoutes } from './routes/attachments.js';
import { registerBackupRoutes } from './routes/backups.js';
import type { RequestState, RouteDeps } from './routes/common.js';
import { registerGroupSnapshotRoutes } from './routes/group-snapshots.js';
import { registerGroupTypeRoutes } from './routes/group-types.js';
import { registerGroupRoutes } from './routes/groups.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerMiscRoutes } from './routes/misc.js';
import { registerOperatorRoutes } from './routes/operators.js';
import { registerQuotaRoutes } from './routes/quotas.js';
import { registerQosSpecsRoutes } from './routes/qos-specs.js';
import { registerTypeRoutes } from './routes/types.js';
import { registerVersionRoutes } from './routes/versions.js';
import { registerSnapshotRoutes } from './routes/snapshots.js';
import { registerTransferRoutes } from './routes/transfers.js';
import { registerManageRoutes } from './routes/manage.js';
import { registerVolumeActionRoutes } from './routes/volume-actions.js';
import { registerVolumeRoutes } from './routes/volumes.js';
import { isUuidLike, validationFault, type SchemaError } from './validation.js';

/** Cinder's project_id_regex: anything else in that position does not route at all. */
const PROJECT_ID = /^[0-9a-f-]+$/;
const JSON_TYPES = ['application/json', 'application/vnd.openstack.volume+json'];
/** Cinder's osapi_max_request_body_size. */
const MAX_BODY_BYTES = 114688;

// Every route is registered once, without the project segment; the URL is
// rewritten before routing and the project remembered for the checks and links.
const projectsInUrl = new WeakMap<IncomingMessage, string>();

function rewriteUrl(raw: IncomingMessage): string {
  const url = raw.url ?? '/';
  const queryAt = url.indexOf('?');
  let path = queryAt < 0 ? url : url.slice(0, queryAt);
  const query = queryAt < 0 ? '' : url.slice(queryAt);
  // The only format suffix Cinder accepts.
  if (path.endsWith('.json')) path = path.slice(0, -'.json'.length);
  // /v3/{project}/{rest}: a non-empty project segment followed by a non-empty rest.
  const slash = path.startsWith('/v3/') ? path.indexOf('/', 4) : -1;
  if (slash > 4 && slash < path.length - 1) {
    const project = path.slice(4, slash);
    if (PROJECT_ID.test(project)) {
      projectsInUrl.set(raw, project);
      path = `/v3${path.slice(slash)}`;
    }
  }
  return path + query;
}

function isVersioned(path: string): boolean {
  return path === '/v3' || path.startsWith('/v3/') || path.startsWith('/v3?');
}

function checkContentType(header: string | undefined): void {
  if (header === undefined || header === 'application/json') return;
  const mediaType = header.split(';', 1)[0]!.trim().toLowerCase();
  if (!JSON_TYPES.includes(mediaType)) throw new ApiFault(415, 'Unsupported Content-Type');
}

/** A fault for anything thrown on the way; unexpected errors say nothing about themselves. */
function toFault(err: unknown): { status: number; message: string; unexpected: boolean } {
  if (err instanceof ApiFault || err instanceof CinderError) return { status: err.status, message: err.message, unexpected: false };
  const fastifyError = err as Partial<FastifyError> & { validation?: SchemaError[] };
  if (fastifyError.validation) {
    const fault = validationFault(fastifyError.validation);
    return { status: fault.status, message: fault.message, unexpected: false };
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'Unsupported Content-Type', unexpected: false };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: 'Request is too large.', unexpected: false };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'Malformed request body', unexpected: false };
    default:
      break;
  }
  // JSON.parse's own error, or fastify refusing a __proto__/constructor key.
  if (err instanceof SyntaxError || (fastifyError.statusCode === 400 && /proto|constructor/i.test(String(fastifyError.message)))) {
    return { status: 400, message: 'Malformed request body', unexpected: false };
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, message: MALFORMED_REQUEST_MESSAGE, unexpected: false };
  }
  return { status: 500, message: GENERIC_500_MESSAGE, unexpected: true };
}

/** webob's plain 404 for URLs that match no route, in the form the Accept header prefers. */
function sendRoutingNotFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const accept = (req.headers.accept ?? '').toLowerCase();
  reply.code(404);
  if (!accept || accept.includes('html') || accept.includes('*/*')) {
    return reply
      .type('text/html; charset=UTF-8')
      .send(
        '<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n' +
          `  ${NOT_FOUND_MESSAGE}<br /><br />\n\n\n\n </body>\n</html>`,
      );
  }
  if (accept.includes('json')) {
    return reply
      .type('application/json')
      .send({ message: `${NOT_FOUND_MESSAGE}<br /><br />\n\n\n`, code: '404 Not Found', title: 'Not Found' });
  }
  return reply.type('text/plain; charset=UTF-8').send(`404 Not Found\n\n${NOT_FOUND_MESSAGE}\n\n   `);
}

/** Told of every answered request; `route` is the matched route's pattern, or null. */
export interface RequestObserver {
  observeRequest(method: string, route: string | null, status: number, seconds: number): void;
}

export async function buildApiServer(
  storage: BlockStorage,
  opts: { config: Config; logger: Logger; auth: Authentication; policy: Policy; observer?: RequestObserver | null },
): Promise<FastifyInstance> {
  const { config, logger, auth } = opts;
  const observer = opts.observer ?? null;
  const app = Fastify({
    loggerInstance: logger.child({ component: 'api' }),
    genReqId: () => `req-${randomUUID()}`,
    // Fastify would make a pino child per request to carry the id; the lines written
    // here carry it themselves, which costs nothing on requests that log one line.
    childLoggerFactory: (logger) => logger,
    // Cinder makes its own request id and never takes one from the caller.
    requestIdHeader: false,
    // One line per request, written below, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    rewriteUrl,
    // A URL that cannot even be decoded never reaches the hooks; it still gets a fault and ids.
    frameworkErrors: (_err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      reply
        .code(400)
        .header('x-openstack-request-id', req.id)
        .header('x-compute-request-id', req.id)
        .type('application/json')
        // Bytes, because no onSend hook runs here to drop fastify's charset parameter.
        .send(
          Buffer.from(
            JSON.stringify(
              faultBody(400, MALFORMED_REQUEST_MESSAGE),
            ),
          ),
        );
    },
    ajv: {
      customOptions: {
        // Cinder's schemas neither coerce, nor strip, nor fill in.
        coerceTypes: false,
        removeAdditional: false,
        useDefaults: false,
        allErrors: false,
        // The failing value is quoted in the 400, so errors must carry it.
        verbose: true,
        strict: false,
        allowUnionTypes: true,
      },
      // After ajv-formats, whose strict uuid would otherwise win: Cinder takes dashless ids too.
      onCreate: (ajv: { addFormat(name: string, check: (value: string) => boolean): unknown }) => ajv.addFormat('uuid', isUuidLike),
    },
  }) as unknown as FastifyInstance;

  app.decorateRequest('cinder', null as unknown as RequestState);

  app.removeAllContentTypeParsers();
  const jsonParser = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'string' }, (req, body, done) => {
    // An empty body is no body, as in Cinder.
    if (body === '') return done(null, undefined);
    if (nestedDeeperThan(body as string, MAX_JSON_DEPTH)) return done(new SyntaxError(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
    jsonParser(req, body as string, done);
  });
  // Reached only without a Content-Type (others were refused earlier): Cinder ignores such a body.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));

  // The hooks take a callback rather than returning a promise: every request runs all
  // four, and a promise each is work for nothing when they finish synchronously (a cached
  // Keystone validation included).
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-openstack-request-id', req.id);
    reply.header('x-compute-request-id', req.id);
    const state: RequestState = { ctx: null, version: null, echoVersion: null, projectInUrl: projectsInUrl.get(req.raw) ?? null };
    req.cinder = state;
    const negotiateVersion = () => {
      if (req.routeOptions.config.api) {
        try {
          state.version = negotiate(req.headers[HEADER]);
          checkContentType(req.headers['content-type']);
        } catch (err) {
          if (err instanceof ApiFault && err.extra.echoVersion) state.echoVersion = err.extra.echoVersion;
          done(err as Error);
          return;
        }
      }
      done();
    };
    if (!isVersioned(req.url) || auth.isOpen(req.url)) return negotiateVersion();
    let ctx: ReturnType<Authentication['contextOf']>;
    try {
      ctx = auth.contextOf(req.headers, req.id);
    } catch (err) {
      done(err as Error);
      return;
    }
    if (ctx === null) {
      const url = `http://${req.headers.host ?? config.apiListen}${req.originalUrl}`;
      // Answered here: done() is not called, so routing goes no further.
      reply.code(204).headers(handshakeHeaders(req.headers, url)).send();
      return;
    }
    if (ctx instanceof Promise) {
      ctx.then(
        (known) => {
          state.ctx = known;
          negotiateVersion();
        },
        (err: Error) => done(err),
      );
      return;
    }
    state.ctx = ctx;
    negotiateVersion();
  });

  // After the body is read, as in Cinder: routes missing at this version, then the project check.
  app.addHook('preValidation', (req, _reply, done) => {
    const { api, minVersion } = req.routeOptions.config;
    if (api) {
      const { version, ctx, projectInUrl } = req.cinder;
      if (minVersion && version && !version.atLeast(minVersion)) return done(new ApiFault(404, NOT_FOUND_MESSAGE));
      if (projectInUrl && ctx && projectInUrl !== ctx.projectId) return done(new ApiFault(400, 'Malformed request url'));
    }
    done();
  });

  app.addHook('onSend', (req, reply, payload, done) => {
    const version = req.cinder?.version ?? req.cinder?.echoVersion;
    if (version) {
      reply.header('OpenStack-API-Version', `volume ${version}`);
      reply.header('Vary', 'OpenStack-API-Version');
    }
    // Cinder's JSON carries no charset parameter.
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8') reply.header('content-type', 'application/json');
    done(null, payload);
  });

  // Method, the URL as the client sent it, status and time; never headers or bodies,
  // which carry tokens and CHAP secrets.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info(
      { reqId: req.id, method: req.method, url: req.originalUrl, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
    observer?.observeRequest(req.method, req.routeOptions.url ?? null, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((err, req, reply) => {
    const fault = toFault(err);
    if (fault.unexpected) req.log.error({ reqId: req.id, err }, 'unexpected error');
    // Quota-style refusals tell the client it may retry at once, as Cinder's do.
    if (fault.status === 413) reply.header('Retry-After', '0');
    const extra = err instanceof ApiFault ? err.extra : {};
    if (extra.headers) reply.headers(extra.headers);
    return reply.code(fault.status).type('application/json').send(extra.body ?? faultBody(fault.status, fault.message));
  });

  app.setNotFoundHandler((req, reply) => sendRoutingNotFound(req, reply));

  const deps: RouteDeps = { storage, config, policy: opts.policy };
  registerVersionRoutes(app, deps);
  registerVolumeRoutes(app, deps);
  registerVolumeActionRoutes(app, deps);
  registerAttachmentRoutes(app, deps);
  registerSnapshotRoutes(app, deps);
  registerBackupRoutes(app, deps);
  registerTypeRoutes(app, deps);
  registerMiscRoutes(app, deps);
  registerQuotaRoutes(app, deps);
  registerMessageRoutes(app, deps);
  registerGroupTypeRoutes(app, deps);
  registerGroupRoutes(app, deps);
  registerGroupSnapshotRoutes(app, deps);
  registerQosSpecsRoutes(app, deps);
  registerOperatorRoutes(app, deps);
  registerTransferRoutes(app, deps);
  registerManageRoutes(app, deps);
  return app;
}
