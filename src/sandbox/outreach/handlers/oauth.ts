import { HttpInputError, parseMediaType, readBody, readJsonBody } from '../../http-util.js';
import { oauthError, type OAuthReply } from '../../oauth-server.js';
import { isRecord } from '../../values.js';
import { reply, type OutreachCall } from '../http.js';

/*
 * The OAuth endpoints (the notes: Authorization Code flow, "also supports Client Credentials for
 * server-to-server"); the protocol is oauth-server.ts. They answer plain JSON, not JSON:API.
 */

function send(c: OutreachCall, r: OAuthReply): void {
  reply(c, r.status, r.body, r.headers, 'application/json');
}

export function authorize(c: OutreachCall): void {
  send(c, c.env.oauth.authorize(c.url));
}

/** POST /oauth/token with a form or a JSON object; anything else is invalid_request. */
export async function token(c: OutreachCall): Promise<void> {
  const { req } = c;
  const ct = parseMediaType(req.headers['content-type']);
  let body: unknown;
  try {
    if (ct?.type === 'application/x-www-form-urlencoded') {
      body = Object.fromEntries(new URLSearchParams((await readBody(req)).toString('utf8')));
    } else if (ct?.type === 'application/json') {
      body = await readJsonBody(req);
      if (!isRecord(body)) return send(c, oauthError(400, 'invalid_request', 'body must be a JSON object'));
    } else {
      await readBody(req).catch(() => undefined);
      return send(c, oauthError(400, 'invalid_request', 'use application/x-www-form-urlencoded or application/json'));
    }
  } catch (err) {
    if (err instanceof HttpInputError) return send(c, oauthError(err.status, 'invalid_request', err.message));
    throw err;
  }
  send(c, c.env.oauth.token(req, body as Record<string, unknown>));
}
