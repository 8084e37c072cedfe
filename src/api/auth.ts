import type { IncomingHttpHeaders } from 'node:http';
import { IdentityUnavailable, Unauthenticated, type Caller, type KeystoneAuthenticator } from '../identity/authenticator.js';
import type { Logger } from '../observability/log.js';
import type { RequestContext } from '../volumes/types.js';
import { ApiFault } from './faults.js';

// Who is calling. Two strategies, as Cinder's auth_strategy: noauth, where the token *is*
// "user:project" and every caller is an administrator, and keystone, where each token is
// validated by Keystone (keystonemiddleware's work, done in this process).

/**
 * The context of a request: at once when it can be known at once, later when Keystone
 * must be asked, or null when the request gets the noauth handshake instead of an answer.
 * Refusals are thrown as ApiFaults.
 */
export interface Authentication {
  contextOf(headers: IncomingHttpHeaders, requestId: string): RequestContext | Promise<RequestContext> | null;
  /** Whether a request without credentials may read this path (version discovery). */
  isOpen(path: string): boolean;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function noauth(opts: { trustCallersAsService: boolean }): Authentication {
  return {
    isOpen: () => false,
    contextOf(headers, requestId) {
      const token = header(headers, 'x-auth-token');
      if (!token) return null;
      const separator = token.indexOf(':');
      const userId = separator < 0 ? token : token.slice(0, separator);
      const projectId = separator < 0 ? '' : token.slice(separator + 1);
      return {
        userId,
        projectId: projectId || userId,
        // Cinder's noauth context: an administrator, which Cinder gives the admin role.
        roles: ['admin'],
        isAdmin: true,
        isAdminProject: true,
        // Nova proves it is Nova with a service token; in noauth mode its presence is the proof.
        isService: opts.trustCallersAsService || header(headers, 'x-service-token') !== undefined,
        requestId,
      };
    },
  };
}

/** Headers of the 204 a token-less noauth request gets: the token to use and where to use it. */
export function handshakeHeaders(headers: IncomingHttpHeaders, requestUrl: string): Record<string, string> {
  const user = header(headers, 'x-auth-user') || 'admin';
  const project = header(headers, 'x-auth-project-id') || 'admin';
  return { 'X-Auth-Token': `${user}:${project}`, 'X-Server-Management-Url': requestUrl };
}

/** keystonemiddleware's refusal, word for word, with where to authenticate instead. */
export function unauthorizedFault(authenticateUri: string): ApiFault {
  return new ApiFault(401, 'The request you have made requires authentication.', {
    headers: { 'WWW-Authenticate': `Keystone uri="${authenticateUri}"` },
    body: { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
  });
}

/** At most one line a period about Keystone trouble: an outage must not flood the log. */
const TROUBLE_LOG_INTERVAL_MS = 10_000;

export function keystone(
  authenticator: KeystoneAuthenticator,
  opts: { isAdmin: (caller: Caller) => boolean; logger: Logger },
): Authentication {
  let lastTroubleLog = 0;
  let unlogged = 0;
  const refuse = (err: unknown): never => {
    if (err instanceof Unauthenticated) {
      opts.logger.info({ reason: err.message }, 'request refused: not authenticated');
      throw unauthorizedFault(authenticator.authenticateUri);
    }
    if (err instanceof IdentityUnavailable) {
      const now = Date.now();
      if (now - lastTroubleLog >= TROUBLE_LOG_INTERVAL_MS) {
        opts.logger.error({ detail: err.detail, alsoSince: unlogged }, 'Keystone unavailable: requests are answered 503');
        lastTroubleLog = now;
        unlogged = 0;
      } else unlogged++;
      throw new ApiFault(503, `The Keystone service is temporarily unavailable: ${err.reason}. The token could not be validated; try again later.`);
    }
    throw err;
  };
  const contextFor = (caller: Caller, requestId: string): RequestContext => {
    const { user } = caller;
    if (!user.projectId) {
      throw new ApiFault(403, 'The token is not scoped to a project: Block Storage needs a project-scoped token.');
    }
    return {
      userId: user.userId,
      projectId: user.projectId,
      roles: user.roles,
      isAdmin: opts.isAdmin(caller),
      isAdminProject: user.isAdminProject,
      isService: caller.isService,
      requestId,
    };
  };
  return {
    isOpen: (path) => path === '/v3/' || path === '/v3',
    contextOf(headers, requestId) {
      let caller: Caller | Promise<Caller>;
      try {
        caller = authenticator.authenticate(header(headers, 'x-auth-token'), header(headers, 'x-service-token'));
      } catch (err) {
        return refuse(err);
      }
      if (caller instanceof Promise) return caller.then((c) => contextFor(c, requestId), refuse);
      return contextFor(caller, requestId);
    },
  };
}
