import { SimError } from '../../http-util.js';
import { oauthError, type OAuthReply } from '../../oauth-server.js';
import { readParams, reply, type SalesloftCall } from '../http.js';

/*
 * The OAuth endpoints of accounts.salesloft.com, served on this origin (notes: "OAuth 2.0 authorization code
 * flow"): authorization codes (PKCE S256 accepted), rotating refresh tokens, client authentication in the form or
 * HTTP Basic; no client_credentials grant. The protocol is oauth-server.ts.
 */

function send(c: SalesloftCall, r: OAuthReply): void {
  reply(c, r.status, r.body, r.headers);
}

export function authorize(c: SalesloftCall): void {
  send(c, c.env.oauth.authorize(c.url));
}

export async function token(c: SalesloftCall): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = await readParams(c);
  } catch (err) {
    // Whatever was wrong with the body (size, media type, JSON), the token endpoint says so the OAuth way.
    if (err instanceof SimError) return send(c, oauthError(400, 'invalid_request', String((err.body as { error?: unknown }).error ?? 'bad request')));
    throw err;
  }
  send(c, c.env.oauth.token(c.req, body));
}
