import { performance } from 'node:perf_hooks';
import type { IncomingMessage } from 'node:http';
import { HttpAuthenticator } from '../src/http-auth.js';
import { silentLogger } from '../src/log.js';
import { startIssuer } from '../test/support/issuer.js';
import { summarize } from './stats.js';
import type { Benchmark } from './types.js';

const RESOURCE = 'https://access.example.com/mcp';
const N = 2000;

/**
 * What checking a person's access token costs per HTTP request (issue 13 item 5): HttpAuthenticator against a
 * local issuer (discovery and JWKS over HTTP, fetched once and then cached by jose), RS256 and ES256 tokens,
 * next to the static bearer's constant-time compare. Per request, after the first (which discovers).
 */
export const oauthVerify: Benchmark = {
  name: 'oauth_verify',
  description: `cost of authenticating one HTTP request: JWT access token (RS256, ES256) vs the static bearer, ${N} requests each`,
  async run(ctx) {
    const issuer = await startIssuer({ audience: RESOURCE });
    const staticToken = 'bench-static-bearer-0123456789abcdef0123';
    const auth = new HttpAuthenticator({ httpToken: staticToken, oauth: { issuer: issuer.issuer, jwksUrl: undefined, resourceUrl: RESOURCE, scopes: [] } }, silentLogger);
    const reqWith = (token: string) => ({ headers: { authorization: `Bearer ${token}` } }) as unknown as IncomingMessage;
    try {
      const out: Record<string, unknown> = {};
      const first = performance.now();
      const warm = await auth.authenticate(reqWith(await issuer.mint({ sub: 'warm' })));
      if (warm.kind !== 'ok') throw new Error(`bench token refused: ${JSON.stringify(warm)}`);
      out.first_request_with_discovery_ms = Math.round((performance.now() - first) * 1000) / 1000;
      for (const [name, mint] of [
        ['rs256', () => issuer.mint({ sub: 'alice', email: 'alice@example.com' })],
        ['es256', () => issuer.mint({ sub: 'alice', email: 'alice@example.com' }, { alg: 'ES256' })],
        ['static_bearer', async () => staticToken],
      ] as const) {
        const req = reqWith(await mint());
        const samples: number[] = [];
        for (let i = 0; i < N; i++) {
          const t = performance.now();
          const r = await auth.authenticate(req);
          samples.push(performance.now() - t);
          if (r.kind !== 'ok') throw new Error(`${name}: refused`);
        }
        out[`${name}_ms`] = summarize(samples);
        ctx.note(`oauth_verify: ${name} done`);
      }
      out.issuer_requests = Object.fromEntries(issuer.hits);
      return out;
    } finally {
      await issuer.close();
    }
  },
};
