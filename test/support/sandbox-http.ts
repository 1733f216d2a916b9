import { createHash, randomBytes } from 'node:crypto';
import { request } from 'undici';
import { afterAll, expect } from 'vitest';

/** What the simulator tests look at in an answer: headers flattened to one string each, the body parsed. */
export interface Res {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/**
 * One request to a simulator. The body must be JSON (a parse error fails the test) unless `textBody` allows
 * plain text, which Apollo answers some errors with.
 */
export async function send(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
  o: { textBody?: boolean } = {},
): Promise<Res> {
  const r = await request(url, { method: init.method as 'GET', headers: init.headers, body: init.body });
  const text = await r.body.text();
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : String(v);
  let body: unknown = text;
  if (!o.textBody) body = text ? JSON.parse(text) : undefined;
  else {
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text
    }
  }
  return { status: r.statusCode, headers: flat, body };
}

/**
 * `start`, remembering every simulator it started so that all are closed after the file's tests. Call it at
 * the top level of a test file.
 */
export function simulators<O, S extends { close(): Promise<void> }>(start: (opts: O) => Promise<S>): (opts?: O) => Promise<S> {
  const started: S[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()));
  });
  return async (opts = {} as O) => {
    const s = await start(opts);
    started.push(s);
    return s;
  };
}

/** An OAuth client registered with a simulator's authorization server. */
export interface OAuthSim {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
}

/** A form POST to the token endpoint, the client authenticated in the form or (`basic`) with HTTP Basic. */
export async function tokenRequest(sim: OAuthSim, params: Record<string, string>, basic = false): Promise<Res> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const form = new URLSearchParams(params);
  if (basic) headers.authorization = `Basic ${Buffer.from(`${sim.clientId}:${sim.clientSecret}`).toString('base64')}`;
  else {
    form.set('client_id', sim.clientId);
    form.set('client_secret', sim.clientSecret);
  }
  return send(sim.tokenUrl, { method: 'POST', headers, body: form.toString() });
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Asks the simulator's auto-approving authorize endpoint for a code, checks that the redirect goes back to
 * `redirectUri` with the state, and returns the code.
 */
export async function authorizeCode(
  sim: { authorizeUrl: string; clientId: string },
  o: { redirectUri: string; challenge: string; scope: string; state?: string },
): Promise<string> {
  const state = o.state ?? 'xyz-123';
  const u = new URL(sim.authorizeUrl);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: sim.clientId,
    redirect_uri: o.redirectUri,
    state,
    code_challenge: o.challenge,
    code_challenge_method: 'S256',
    scope: o.scope,
  }).toString();
  const r = await request(u, { method: 'GET' });
  await r.body.dump();
  expect(r.statusCode).toBe(302);
  const loc = new URL(String(r.headers.location));
  expect(loc.origin + loc.pathname).toBe(o.redirectUri);
  expect(loc.searchParams.get('state')).toBe(state);
  return loc.searchParams.get('code')!;
}
