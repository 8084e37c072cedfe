// keystonemiddleware's decision, inside the process: a request is let in when its user
// token is valid and, if it carries a service token, that one is valid too. A valid
// service token with one of the service roles makes the request a service's (Nova's).
// Answers come from the token cache when they can, synchronously: a cached request
// costs a hash and a map lookup, and no promise.

import { IdentityUnavailable, type KeystoneClient, type TokenIdentity } from './keystone-client.js';
import { TokenCache } from './token-cache.js';

/** The request must be refused with 401: what is wrong, for the log (never the token). */
export class Unauthenticated extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Unauthenticated';
  }
}

export { IdentityUnavailable };

export interface Caller {
  user: TokenIdentity;
  /** The request carries a valid service token with one of the service roles. */
  isService: boolean;
}

export interface AuthenticatorSettings {
  /** How long a validation is trusted, at most (the token's expiry may end it sooner). */
  cacheTimeMs: number;
  serviceTokenRoles: readonly string[];
  /** A service token without one of the service roles is refused, rather than ignored. */
  serviceTokenRolesRequired: boolean;
  /** Bound on cached validations. */
  maxCachedTokens?: number;
}

export interface TokenCacheObserver {
  tokenCacheHit(): void;
}

type Lookup = TokenIdentity | null;

export class KeystoneAuthenticator {
  private readonly cache: TokenCache<Lookup>;
  private readonly serviceRoles: Set<string>;

  constructor(
    private readonly client: KeystoneClient,
    private readonly settings: AuthenticatorSettings,
    private readonly observer: TokenCacheObserver | null = null,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new TokenCache(settings.maxCachedTokens ?? 10_000, now);
    this.serviceRoles = new Set(settings.serviceTokenRoles.map((r) => r.toLowerCase()));
  }

  get authenticateUri(): string {
    return this.client.authenticateUri;
  }

  /** The caller, synchronously when every token's validation is cached. */
  authenticate(userToken: string | undefined, serviceToken: string | undefined): Caller | Promise<Caller> {
    if (!userToken) throw new Unauthenticated('no user token');
    const user = this.lookup(userToken);
    const service = serviceToken ? this.lookup(serviceToken) : null;
    if (user instanceof Promise || service instanceof Promise) {
      return Promise.all([user, service]).then(([u, s]) => this.decide(u, s, serviceToken !== undefined));
    }
    return this.decide(user, service, serviceToken !== undefined);
  }

  private decide(user: Lookup, service: Lookup, serviceTokenSent: boolean): Caller {
    const now = this.now();
    if (serviceTokenSent) {
      if (!service || service.expiresAt <= now) throw new Unauthenticated('invalid service token');
      if (this.settings.serviceTokenRolesRequired && !this.hasServiceRole(service)) {
        throw new Unauthenticated('service token without a service role');
      }
    }
    if (!user || user.expiresAt <= now) throw new Unauthenticated('invalid user token');
    return { user, isService: service !== null && this.hasServiceRole(service) };
  }

  private hasServiceRole(identity: TokenIdentity): boolean {
    return identity.roles.some((r) => this.serviceRoles.has(r.toLowerCase()));
  }

  private lookup(token: string): Lookup | Promise<Lookup> {
    const key = TokenCache.keyOf(token);
    const hit = this.cache.get(key);
    if (hit !== undefined) {
      this.observer?.tokenCacheHit();
      return hit;
    }
    return this.cache.resolve(key, async () => {
      const identity = await this.client.validate(token);
      const limit = this.now() + this.settings.cacheTimeMs;
      // A refusal is kept as long as a validation: a token never becomes valid later.
      return { value: identity, until: identity ? Math.min(limit, identity.expiresAt) : limit };
    });
  }
}
