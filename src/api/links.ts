import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Where clients reach us: the configured public endpoint (without any trailing
 * version segment), else what the request says, behind a proxy included.
 */
export function origin(req: FastifyRequest, config: Config): string {
  if (config.publicEndpoint) return config.publicEndpoint.replace(/\/+$/, '').replace(/\/v\d+(\.\d+)?$/, '');
  const host = first(req.headers['x-forwarded-host'])?.split(',')[0]?.trim() || req.headers.host || config.apiListen;
  const proto = first(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim() || 'http';
  return `${proto}://${host}`;
}

/** Builds resource links the way Cinder does: the project appears only if the request URL had it. */
export class Urls {
  constructor(
    readonly origin: string,
    readonly projectInUrl: string | null,
  ) {}

  private scoped(path: string): string {
    return this.projectInUrl ? `${this.projectInUrl}/${path}` : path;
  }

  self(path: string): string {
    return `${this.origin}/v3/${this.scoped(path)}`;
  }

  bookmark(path: string): string {
    return `${this.origin}/${this.scoped(path)}`;
  }

  links(path: string): Array<{ rel: string; href: string }> {
    return [
      { rel: 'self', href: this.self(path) },
      { rel: 'bookmark', href: this.bookmark(path) },
    ];
  }
}
