import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { PageRequest } from '../../src/confirm/approval-page.js';
import { APPROVAL_TTL_MS, ApprovalBroker, keyDigestOf, ownerDigestOf } from '../../src/confirm/approvals.js';
import { loadApprovalPage, postApprovalDecision } from '../support/stack.js';

const XSS = '<script>window.__pwned=1</script>';

function req(overrides: Partial<PageRequest> = {}): PageRequest {
  return {
    tool: 'outreach_lock_user',
    summary: `Lock Outreach user jane@acme.example (id 42) ${XSS}`,
    targets: [{ vendor: 'outreach', id: '42', email: `jane"><img src=x onerror=alert(1)>@acme.example`, action: 'lock (locked: true): blocks login' }],
    notes: ['A locked Outreach user still holds a licensed seat & keeps sequences.'],
    requester: { client: `evil-client ${XSS} 1.0`, transport: 'stdio' },
    ...overrides,
  };
}

describe('approval page server', () => {
  let broker: ApprovalBroker | undefined;
  let t = Date.parse('2026-11-02T09:00:00Z');
  const now = () => t;
  const opened: string[] = [];
  const start = () => (broker = new ApprovalBroker({ now, openBrowser: (u) => opened.push(u) }));
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
    t = Date.parse('2026-11-02T09:00:00Z');
  });

  it('serves a 128-bit single-use URL on 127.0.0.1, re-used for the same key, with the security headers', async () => {
    const b = start();
    const a = await b.open('k1', req(), 's1');
    expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/approve\/[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(a.id, 'base64url')).toHaveLength(16);
    expect(a.created).toBe(true);
    expect(opened).toEqual([a.url]);
    const again = await b.open('k1', req(), 's1');
    expect(again).toMatchObject({ id: a.id, url: a.url, created: false });
    const other = await b.open('k2', req(), 's1');
    expect(other.id).not.toBe(a.id);
    expect(a.expiresAt - a.createdAt).toBe(APPROVAL_TTL_MS);

    const r = await request(a.url);
    const html = await r.body.text();
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    expect(r.headers['referrer-policy']).toBe('same-origin');
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^sam_approval=[A-Za-z0-9_-]{43}; Path=\/approve\/[A-Za-z0-9_-]{22}; Max-Age=600; HttpOnly; SameSite=Strict$/);
    // The style hash in the CSP is the hash of the page's one <style> block.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1];
    const { createHash } = await import('node:crypto');
    expect(csp).toContain(`'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('method="post"');
    expect(html).toContain('value="approve"');
    expect(html).toContain('value="reject"');
  });

  it('escapes every value from vendors and from the client', async () => {
    const b = start();
    const a = await b.open('k', req(), 's1');
    const page = await loadApprovalPage(a.url);
    expect(page.html).not.toContain(XSS);
    expect(page.html).not.toContain('<img');
    expect(page.html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(page.html).toContain('jane&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@acme.example');
    expect(page.html).toContain('seat &amp; keeps');
    expect(page.html).toContain('evil-client &lt;script&gt;');
    expect(page.html).toContain('2026-11-02 09:10:00 UTC');
  });

  it('a GET never decides; a browser POST with cookie and CSRF does, once', async () => {
    const b = start();
    const a = await b.open('k', req(), 's1');
    const page = await loadApprovalPage(a.url);
    await loadApprovalPage(a.url);
    expect(await b.take(a.id)).toBeUndefined();
    expect(await b.info(a.id)).toMatchObject({ id: a.id, keyDigest: keyDigestOf('k'), ownerDigest: ownerDigestOf('s1'), decision: undefined, taken: false });

    let notified = 0;
    b.onDecided(a.id, () => notified++);
    t += 60_000;
    const ok = await postApprovalDecision(a.url, page, 'approve', { userAgent: 'Mozilla/5.0 TestBrowser' });
    expect(ok.status).toBe(200);
    expect(ok.html).toContain('Approved');
    expect(notified).toBe(1);
    expect((await b.info(a.id))?.decision).toMatchObject({ approved: true });
    // Asked after the decision, the notice comes at once.
    b.onDecided(a.id, () => notified++);
    expect(notified).toBe(2);
    expect(await b.take(a.id)).toEqual({ approved: true, decidedAt: t, userAgent: 'Mozilla/5.0 TestBrowser' });
    expect(await b.take(a.id)).toBeUndefined();

    // Replayed POST: already decided, nothing changes (not even to reject).
    const replay = await postApprovalDecision(a.url, page, 'reject');
    expect(replay.status).toBe(409);
    expect(replay.html).toContain('already decided');
    const after = await loadApprovalPage(a.url);
    expect(after.csrf).toBeUndefined();
    expect(after.html).toContain('It was approved at');
  });

  it.each([
    ['no CSRF token', { csrf: '' }],
    ['a wrong CSRF token', { csrf: 'x'.repeat(43) }],
    ['no cookie', { cookie: null }],
    ['a wrong cookie', { cookie: `sam_approval=${'y'.repeat(43)}` }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['no Origin (a non-browser client)', { origin: null }],
    ['Origin null', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { secFetchSite: 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { secFetchSite: 'same-site' }],
    ['no Sec-Fetch-Site', { secFetchSite: null }],
  ] as const)('a POST with %s is refused and decides nothing', async (_label, override) => {
    const b = start();
    const a = await b.open('k', req(), 's1');
    const page = await loadApprovalPage(a.url);
    const r = await postApprovalDecision(a.url, page, 'approve', override);
    expect(r.status).toBe(403);
    expect(r.html).toContain('Nothing was changed');
    expect(await b.take(a.id)).toBeUndefined();
    // The genuine page still works afterwards.
    expect((await postApprovalDecision(a.url, page, 'reject')).status).toBe(200);
    expect(await b.take(a.id)).toMatchObject({ approved: false });
  });

  it("another request's CSRF token and cookie do not decide this one", async () => {
    const b = start();
    const a = await b.open('a', req(), 's1');
    const c = await b.open('c', req(), 's1');
    const pageA = await loadApprovalPage(a.url);
    const pageC = await loadApprovalPage(c.url);
    expect((await postApprovalDecision(a.url, pageC, 'approve')).status).toBe(403);
    expect((await postApprovalDecision(a.url, pageA, 'approve', { cookie: pageC.cookie })).status).toBe(403);
    expect(await b.take(a.id)).toBeUndefined();
  });

  it('an expired URL shows "expired" and a valid POST to it changes nothing', async () => {
    const b = start();
    const a = await b.open('k', req(), 's1');
    const page = await loadApprovalPage(a.url);
    t += APPROVAL_TTL_MS + 1;
    const r = await postApprovalDecision(a.url, page, 'approve');
    expect(r.status).toBe(410);
    expect(r.html).toContain('expired');
    expect((await loadApprovalPage(a.url)).status).toBe(410);
    expect(await b.take(a.id)).toBeUndefined();
    // The same change opens a new request now.
    const fresh = await b.open('k', req(), 's1');
    expect(fresh.id).not.toBe(a.id);
    // Forgotten 10 minutes after expiry.
    t += APPROVAL_TTL_MS + 1;
    expect((await loadApprovalPage(a.url)).status).toBe(404);
  });

  it('a decision is picked up by the next open() for the same key, within 10 minutes, once', async () => {
    const b = start();
    const a = await b.open('plan-1', req(), 's1');
    const page = await loadApprovalPage(a.url);
    expect((await postApprovalDecision(a.url, page, 'approve')).status).toBe(200);
    t += 5 * 60_000;
    const again = await b.open('plan-1', req(), 's1');
    expect(again).toMatchObject({ id: a.id, created: false });
    expect((await b.info(again.id))?.decision).toMatchObject({ approved: true });
    expect(await b.take(again.id)).toMatchObject({ approved: true });
    expect((await b.info(again.id))?.taken).toBe(true);
    // Used: the next open() for the key asks again.
    expect((await b.open('plan-1', req(), 's1')).id).not.toBe(a.id);
  });

  it('unknown or malformed ids are 404; other methods 405; a foreign Host 403', async () => {
    const b = start();
    const a = await b.open('k', req(), 's1');
    const origin = new URL(a.url).origin;
    for (const path of ['/approve/AAAAAAAAAAAAAAAAAAAAAA', '/approve/../../etc/passwd', '/approve/', '/', '/mcp']) {
      const r = await request(`${origin}${path}`);
      expect(r.statusCode, path).toBe(404);
      await r.body.text();
    }
    const put = await request(a.url, { method: 'PUT', body: 'x' });
    expect(put.statusCode).toBe(405);
    await put.body.text();
    const rebound = await request(a.url, { headers: { host: 'attacker.example' } });
    expect(rebound.statusCode).toBe(403);
    expect(await rebound.body.text()).not.toContain('csrf');
    const localhost = await request(a.url, { headers: { host: `localhost:${new URL(a.url).port}` } });
    expect(localhost.statusCode).toBe(200);
    await localhost.body.text();
  });

  it('an HTTP-mode broker accepts SALES_ACCESS_ALLOWED_HOSTS and checks Origin against the Host the browser used', async () => {
    // No listener of its own: call handle() through a throwaway node server, as http-server.ts does.
    const { createServer } = await import('node:http');
    const b = new ApprovalBroker({ origin: 'https://access.example', allowedHosts: ['access.example'], now });
    const srv = createServer((rq, rs) => void b.handle(rq, rs));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as { port: number }).port;
      const a = await b.open('k', req(), 's1');
      expect(a.url).toMatch(/^https:\/\/access\.example\/approve\//);
      const local = a.url.replace('https://access.example', `http://127.0.0.1:${port}`);
      const get = await request(local, { headers: { host: 'access.example' } });
      const html = await get.body.text();
      expect(get.statusCode).toBe(200);
      expect(String(get.headers['set-cookie'])).toMatch(/; Secure$/);
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1];
      const cookie = String(get.headers['set-cookie']).split(';')[0];
      const body = new URLSearchParams({ csrf, decision: 'approve' }).toString();
      const base = { 'content-type': 'application/x-www-form-urlencoded', cookie, 'sec-fetch-site': 'same-origin', host: 'access.example' };
      const wrong = await request(local, { method: 'POST', headers: { ...base, origin: `http://127.0.0.1:${port}` }, body });
      expect(wrong.statusCode).toBe(403);
      await wrong.body.text();
      const ok = await request(local, { method: 'POST', headers: { ...base, origin: 'https://access.example' }, body });
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
      expect(await b.take(a.id)).toMatchObject({ approved: true });
      const other = await request(local, { headers: { host: 'other.example' } });
      expect(other.statusCode).toBe(403);
      await other.body.text();
    } finally {
      srv.closeAllConnections();
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });
});
