/**
 * Who is calling: Basic auth against the configured users, or a Bearer token issued by
 * `/oauth_token.do`. Tokens expire on the sandbox clock, so tests can move time forward.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { SandboxUser } from './types.js';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  tokenTtlSeconds?: number;
}

interface IssuedToken {
  user: string;
  expiresAt: number;
}

/** Roles the default integration user holds (what a real changegate service account needs). */
export const DEFAULT_ROLES = [
  'itil',
  'change_manager',
  'sn_change_read',
  'sn_change_writer',
  'cmdb_read',
  'import_transformer',
  'rest_api_explorer',
];

export const DEFAULT_USER: SandboxUser = {
  username: 'changegate.integration',
  password: 'changegate',
  roles: DEFAULT_ROLES,
};

// ServiceNow tokens are long opaque strings; mimic the look so log redaction is exercised.
function opaqueToken(): string {
  return randomBytes(64).toString('base64url');
}

export class Auth {
  private readonly access = new Map<string, IssuedToken>();
  private readonly refresh = new Map<string, string>();

  constructor(
    readonly users: SandboxUser[],
    readonly oauth: OAuthClient | undefined,
    private readonly clock: () => Date,
  ) {}

  get ttlSeconds(): number {
    return this.oauth?.tokenTtlSeconds ?? 1799;
  }

  userByName(name: string): SandboxUser | undefined {
    return this.users.find((u) => u.username === name);
  }

  checkPassword(username: string, password: string): SandboxUser | undefined {
    const user = this.userByName(username);
    return user && user.password === password ? user : undefined;
  }

  checkClient(clientId: string | undefined, clientSecret: string | undefined): boolean {
    return (
      !!this.oauth && clientId === this.oauth.clientId && clientSecret === this.oauth.clientSecret
    );
  }

  /** Issue an access token (and a refresh token when asked) for `user`. */
  issue(
    user: string,
    withRefresh: boolean,
    refreshToken?: string,
  ): {
    access_token: string;
    refresh_token?: string;
    expires_in: number;
  } {
    const accessToken = opaqueToken();
    this.access.set(accessToken, {
      user,
      expiresAt: this.clock().getTime() + this.ttlSeconds * 1000,
    });
    let refresh = refreshToken;
    if (withRefresh && !refresh) {
      refresh = opaqueToken();
      this.refresh.set(refresh, user);
    }
    return {
      access_token: accessToken,
      ...(refresh ? { refresh_token: refresh } : {}),
      expires_in: this.ttlSeconds,
    };
  }

  userOfRefreshToken(token: string): string | undefined {
    return this.refresh.get(token);
  }

  /** Resolve an `Authorization` header to a user, or undefined (401). */
  authenticate(header: string | undefined): SandboxUser | undefined {
    if (!header) return undefined;
    const [scheme, value = ''] = header.split(/\s+/, 2);
    if (scheme?.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return undefined;
      return this.checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    if (scheme?.toLowerCase() === 'bearer') {
      const token = this.access.get(value);
      if (!token) return undefined;
      if (token.expiresAt <= this.clock().getTime()) {
        this.access.delete(value);
        return undefined;
      }
      return this.userByName(token.user);
    }
    return undefined;
  }

  /** Forget every token (admin reset). */
  reset(): void {
    this.access.clear();
    this.refresh.clear();
  }
}

/** Whether `user` holds any of `roles` (admin holds everything, as on the platform). */
export function hasAnyRole(user: SandboxUser, roles: readonly string[]): boolean {
  return user.roles.includes('admin') || roles.some((r) => user.roles.includes(r));
}
