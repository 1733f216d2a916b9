import { request } from 'undici';
import type { ApprovalPageSession } from './stack.js';

/**
 * What a browser does for a page without JavaScript, enough for the approval page's sign-in: a cookie jar that
 * honours Path and Max-Age, redirects followed one hop at a time, and the Sec-Fetch-Site a navigation carries.
 * (The SameSite rules themselves are tested in a real Chromium: approval-signin-browser.test.ts.)
 */
export class CookieBrowser {
  /** `origin name path` → value. */
  private readonly jar = new Map<string, { origin: string; name: string; path: string; value: string }>();
  /** Every URL requested, in order. */
  readonly visited: string[] = [];
  private readonly given: string[] = [];

  cookieHeader(url: string): string | undefined {
    const u = new URL(url);
    const sent = [...this.jar.values()].filter((c) => c.origin === u.origin && (u.pathname === c.path || u.pathname.startsWith(`${c.path.replace(/\/$/, '')}/`)));
    return sent.length === 0 ? undefined : sent.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  cookie(url: string, name: string): string | undefined {
    return this.cookieHeader(url)
      ?.split('; ')
      .find((p) => p.startsWith(`${name}=`))
      ?.slice(name.length + 1);
  }

  /** One GET, as a top-level navigation; cookies stored from its answer. */
  async get(url: string, site: 'none' | 'cross-site' | 'same-origin' = 'none'): Promise<{ status: number; location: string | undefined; html: string; setCookies: string[] }> {
    this.visited.push(url);
    const headers: Record<string, string> = { 'sec-fetch-site': site, 'sec-fetch-mode': 'navigate', 'user-agent': 'cookie-browser/1.0' };
    const cookie = this.cookieHeader(url);
    if (cookie) headers.cookie = cookie;
    const r = await request(url, { method: 'GET', headers });
    const html = await r.body.text();
    const raw = r.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const line of setCookies) this.store(url, line);
    const loc = r.headers.location;
    return { status: r.statusCode, location: typeof loc === 'string' ? new URL(loc, url).href : undefined, html, setCookies };
  }

  /** GETs `url` and follows redirects (each hop's Sec-Fetch-Site as a browser computes it); the last answer. */
  async open(url: string, maxHops = 6): Promise<{ status: number; url: string; html: string; location: string | undefined }> {
    let at = url;
    let site: 'none' | 'cross-site' | 'same-origin' = 'none';
    for (let hop = 0; hop <= maxHops; hop++) {
      const r = await this.get(at, site);
      if (r.status < 300 || r.status >= 400 || !r.location) return { status: r.status, url: at, html: r.html, location: r.location };
      // A redirect chain that crossed sites stays cross-site.
      if (new URL(r.location).origin !== new URL(at).origin) site = 'cross-site';
      at = r.location;
    }
    throw new Error(`more than ${maxHops} redirects from ${url}`);
  }

  /** Every cookie value this browser holds or was given (to check that none was stored elsewhere). */
  cookieValues(): string[] {
    return [...new Set([...this.given, ...[...this.jar.values()].map((c) => c.value)])];
  }

  /** The approval page as postApprovalDecision needs it (its CSRF token and this browser's page cookie). */
  pageSession(url: string, page: { status: number; html: string }): ApprovalPageSession {
    const value = this.cookie(url, 'sam_approval');
    return { status: page.status, html: page.html, csrf: /name="csrf" value="([^"]+)"/.exec(page.html)?.[1], cookie: value ? `sam_approval=${value}` : undefined };
  }

  private store(url: string, line: string): void {
    const [pair, ...attrs] = line.split(';').map((p) => p.trim());
    const i = pair!.indexOf('=');
    const name = pair!.slice(0, i);
    const value = pair!.slice(i + 1);
    const attr = (n: string) => attrs.find((a) => a.toLowerCase().startsWith(`${n.toLowerCase()}=`))?.split('=')[1];
    const path = attr('Path') ?? '/';
    const origin = new URL(url).origin;
    const key = `${origin} ${name} ${path}`;
    if (value !== '') this.given.push(value);
    if (attr('Max-Age') === '0' || value === '') this.jar.delete(key);
    else this.jar.set(key, { origin, name, path, value });
  }
}
