import { bearerChallenge, safeEqual } from '../http-util.js';
import { fail, type ApolloCall, type ApolloEndpoint, type Credential } from './http.js';

/*
 * Keys and tokens. A master key reaches everything; the scoped key reaches a configurable list of endpoints
 * (the spec's "API key access: api/v1/<endpoint> or Master API key"; the notes say People API Search needs a
 * master key, the spec says a key scoped to it is enough: we follow the spec). A key in the query or body is
 * refused (401) and logged, since Apollo stopped accepting those in 2024. GET /auth/health takes bearer tokens
 * only (notes).
 */

const INVALID_KEY_TEXT = 'Invalid API key. See https://docs.apollo.io/reference/authentication for how to authenticate.';

export function authenticate(c: ApolloCall): Credential {
  const { env, req } = c;
  const key = req.headers['x-api-key'];
  const bearer = env.oauth.verifyBearer(req.headers.authorization);
  if (c.keyInQueryOrBody) {
    // Apollo stopped accepting keys outside the header (September 2024).
    c.credential = 'invalid';
    fail(401, `${INVALID_KEY_TEXT} API keys are accepted only in the X-Api-Key header.`, {}, 'text/plain');
  }
  if (typeof key === 'string' && key !== '') {
    if (safeEqual(key, env.masterKey)) return { kind: 'master', owner: env.store.admin };
    if (safeEqual(key, env.scopedKey)) return { kind: 'scoped', owner: env.store.scopedOwner };
    c.credential = 'invalid';
    fail(401, INVALID_KEY_TEXT, {}, 'text/plain');
  }
  if (bearer.failure !== 'missing') {
    if (bearer.failure) {
      c.credential = 'invalid';
      fail(
        401,
        { error: 'invalid_token', error_description: bearer.failure === 'expired' ? 'The access token expired' : 'The access token is invalid' },
        { 'WWW-Authenticate': bearerChallenge('apollo', 'invalid_token') },
      );
    }
    return { kind: 'oauth', owner: env.store.admin, scopes: bearer.grant.scopes };
  }
  c.credential = 'none';
  fail(401, INVALID_KEY_TEXT, {}, 'text/plain');
}

export function authorize(c: ApolloCall, cred: Credential, ep: ApolloEndpoint): void {
  if (ep.bearerOnly && cred.kind !== 'oauth') {
    fail(401, `${ep.path.slice(1)} accepts only an OAuth access token (Authorization: Bearer), not X-Api-Key.`, {}, 'text/plain');
  }
  if (cred.kind === 'scoped' && !c.env.scopedAllowed.has(ep.name)) {
    fail(403, {
      error: `This API key is not authorized to access ${ep.name}. Request an API key from your administrator that includes this endpoint in its configured scope.`,
      error_code: 'API_INACCESSIBLE',
    });
  }
  if (cred.kind === 'oauth' && !cred.scopes?.has(ep.scope)) {
    fail(403, { error: `This access token is not authorized to access ${ep.name} (scope ${ep.scope} missing).`, error_code: 'API_INACCESSIBLE' });
  }
}
