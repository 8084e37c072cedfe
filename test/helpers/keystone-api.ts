// The few Identity v3 calls the harness makes to seed and drive a Keystone.

const REQUEST_TIMEOUT_MS = 30_000;

export interface KeystoneResponse {
  status: number;
  headers: Headers;
  body: any;
}

export interface KeystoneRequest {
  token?: string;
  subjectToken?: string;
  body?: unknown;
  /** Statuses that count as success; anything else throws. */
  expect?: number[];
}

/** Who logs in: by id, or by name in the default domain. */
export type PasswordUser = { id: string } | { name: string };
/** The project a token is scoped to: by id, or by name in the default domain. */
export type ProjectScope = { id: string } | { name: string };

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

export class KeystoneApi {
  /** `url` is the Identity v3 root, http://127.0.0.1:PORT/v3. */
  constructor(readonly url: string) {}

  async request(method: string, path: string, options: KeystoneRequest = {}): Promise<KeystoneResponse> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.token) headers['X-Auth-Token'] = options.token;
    if (options.subjectToken) headers['X-Subject-Token'] = options.subjectToken;
    const res = await fetch(this.url + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    const expect = options.expect ?? [200, 201, 204];
    if (!expect.includes(res.status)) {
      // Keystone's error bodies name what went wrong and never echo a password or token.
      throw new Error(`Keystone ${method} ${path} answered ${res.status}, expected ${expect.join(' or ')}: ${text.slice(0, 500)}`);
    }
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
  }

  async passwordToken(user: PasswordUser, password: string, project: ProjectScope): Promise<IssuedToken> {
    const inDefaultDomain = <T extends object>(ref: T) => ('id' in ref ? ref : { ...ref, domain: { id: 'default' } });
    const res = await this.request('POST', '/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { ...inDefaultDomain(user), password } } },
          scope: { project: inDefaultDomain(project) },
        },
      },
      expect: [201],
    });
    return { token: res.headers.get('x-subject-token')!, expiresAt: res.body.token.expires_at };
  }
}
