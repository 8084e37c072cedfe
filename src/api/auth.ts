import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../volumes/types.js';

// noauth as Cinder's NoAuthMiddleware does it: the token *is* "user:project",
// every caller is an administrator, and a request without a token gets the token
// handed back instead of an answer.

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Null when the request carries no token and must get the handshake instead. */
export function noauthContext(
  headers: IncomingHttpHeaders,
  requestId: string,
  opts: { trustCallersAsService: boolean },
): RequestContext | null {
  const token = header(headers, 'x-auth-token');
  if (!token) return null;
  const separator = token.indexOf(':');
  const userId = separator < 0 ? token : token.slice(0, separator);
  const projectId = separator < 0 ? '' : token.slice(separator + 1);
  return {
    userId,
    projectId: projectId || userId,
    isAdmin: true,
    // Nova proves it is Nova with a service token; in noauth mode its presence is the proof.
    isService: opts.trustCallersAsService || header(headers, 'x-service-token') !== undefined,
    requestId,
  };
}

/** Headers of the 204 a token-less request gets: the token to use and where to use it. */
export function handshakeHeaders(headers: IncomingHttpHeaders, requestUrl: string): Record<string, string> {
  const user = header(headers, 'x-auth-user') || 'admin';
  const project = header(headers, 'x-auth-project-id') || 'admin';
  return { 'X-Auth-Token': `${user}:${project}`, 'X-Server-Management-Url': requestUrl };
}
