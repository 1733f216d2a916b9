import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLoopbackHost } from '../env.js';
import type { Deps } from '../deps.js';
import type { Logger } from '../log.js';
import { approvalCsp, renderApprovalPage, renderResultPage, type PageRequest, type ResultKind } from './approval-page.js';
import { APPROVAL_TTL_MS, checkOpenLimits, MAX_PASSES, MemoryApprovalStore, reusable, type ApprovalStore, type Decision } from './approval-store.js';
import { approvalIdOfState, CALLBACK_PATH, SignInFailed, stateMatches, type PageSignIn } from './page-signin.js';
import { RedisApprovalStore } from './redis-approvals.js';
import { matchesDigest, secretDigest } from './secret.js';

export { APPROVAL_TTL_MS, type Decision };

/**
 * The approval page for destructive writes (confirmation modes `browser` and `auto`): on loopback, or with sign-in beyond it.
 *
 * A tool call that needs approval opens a request here and answers at once with its link; the human decides
 * on a page at `<origin>/approve/<id>`, and a later call for the same change (same tool, arguments, targets
 * and session) finds the decision and uses it once. Over stdio the page is served by a small server on
 * 127.0.0.1 with an ephemeral port, started on first use; in HTTP mode it is a route of the MCP HTTP server.
 *
 * Security model. The page is an approval for a human, so the URL alone must never approve anything:
 * - the id is 128 random bits, valid for 10 minutes, and decides at most once (a replay is "already decided");
 * - a GET only shows the page; it sets an HttpOnly, SameSite=Strict cookie and embeds a CSRF token in the form,
 *   and a decision is a POST that must carry both, as a pair one GET issued (its SHA-256 digest is all that is
 *   stored, compared in constant time), so the page of any replica sharing the store can serve and decide;
 * - the POST must come from a browser on the page itself: `Origin` equal to the page's own origin and
 *   `Sec-Fetch-Site: same-origin` (browsers set both and scripts cannot forge them; other sites' pages get
 *   403, and a cross-site form cannot carry the SameSite=Strict cookie anyway);
 * - the Host header must be a loopback name, or one of SALES_ACCESS_ALLOWED_HOSTS (DNS rebinding);
 * - every value is escaped; the CSP is `default-src 'none'` with one hashed style, `form-action 'self'`,
 *   `frame-ancestors 'none'`, plus X-Frame-Options: DENY, no-store and nosniff.
 * Beyond loopback (HTTP with SALES_ACCESS_APPROVAL_CLIENT_ID) the page first signs the person in with the
 * identity provider and accepts only the person who asked (page-signin.ts): a GET without a signed-in cookie is
 * sent to the identity provider; `/approve/callback` checks that the browser finishing the sign-in started it
 * and that its `sub` is the requester's, then issues the page cookie (SameSite=Lax, since the way back from the
 * identity provider is a cross-site navigation); a POST needs that cookie signed in as well as the pair above.
 * Residual risk, stated plainly: these checks tell a browser from a script, not a human from a program. The
 * model only ever receives the URL, and approving needs a GET, the cookie, the CSRF token and a POST with
 * browser-only headers sent to this machine's loopback interface. A model whose client gives it a general
 * HTTP tool running on this same machine could forge those headers, and one that drives a real browser
 * here could click the button. Do not give an assistant such tools alongside this server, and read the page
 * before clicking: it shows exactly what will happen. With sign-in, a program would also need the person's
 * session at the identity provider.
 */

/** Requests neither decided nor expired; more means something is looping, and new ones are refused. */
const MAX_OPEN = 200;
const ID_RE = /^[A-Za-z0-9_-]{22}$/;
/** A cookie this page issued: 32 random bytes, base64url. */
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

/** One page view's CSRF token and cookie, as stored: the digest of the pair. */
function passDigest(csrf: string, cookie: string): string {
  return secretDigest('approval page pass', csrf, cookie);
}
/** With sign-in: the page cookie of a browser whose person signed in as the requester, as stored. */
const signedInDigest = (cookie: string) => secretDigest('approval page signed in', cookie);
const COOKIE = 'sam_approval';
/**
 * With sign-in: binds a sign-in to the browser that started it. One per request, so two links signed in at once
 * in one browser do not overwrite each other's; Path=/approve, so that the link opened again (a second tab)
 * re-uses it and both tabs' sign-ins stay valid.
 */
const signInCookieName = (id: string) => `sam_signin_${id}`;
const SIGNIN_COOKIE_PATH = '/approve';
const MAX_FORM_BYTES = 8 * 1024;
const MAX_USER_AGENT = 256;

export interface OpenedApproval {
  id: string;
  url: string;
  createdAt: number;
  expiresAt: number;
  /** False when a pending or decided request with the same key was re-used. */
  created: boolean;
}

/** What the gate may know of a request. */
export interface ApprovalInfo {
  id: string;
  /** SHA-256 of the request key (approvalKeyDigest). */
  keyDigest: string;
  /** SHA-256 of the MCP session (or stdio connection) that asked: only its calls may use the decision. */
  ownerDigest: string;
  summary: string;
  expiresAt: number;
  decision: Decision | undefined;
  /** A call has used the decision. */
  taken: boolean;
}

/** The digests a request is stored under: its key (the change and the session) and its owner (the session). */
export const keyDigestOf = (key: string) => secretDigest('approval key', key);
export const ownerDigestOf = (session: string) => secretDigest('approval owner', session);

export interface ApprovalBrokerOptions {
  /**
   * The origin the page is served at (HTTP mode: the MCP server's own, or SALES_ACCESS_APPROVAL_BASE_URL).
   * Undefined: a loopback server on 127.0.0.1 with an ephemeral port is started on first use (stdio).
   */
  origin?: string;
  /** Host names accepted besides loopback names (SALES_ACCESS_ALLOWED_HOSTS). */
  allowedHosts?: string[];
  now?: () => number;
  log?: Logger;
  /** Called with the URL of each new request (SALES_ACCESS_OPEN_BROWSER=1 over stdio). */
  openBrowser?: (url: string) => void;
  /** Where requests are kept; default this process's memory (Redis for replicas: redis-approvals.ts). */
  store?: ApprovalStore;
  /**
   * The page signs the person in with the identity provider and accepts only the person who asked
   * (SALES_ACCESS_APPROVAL_CLIENT_ID: a page served beyond loopback, see page-signin.ts).
   */
  signIn?: PageSignIn;
}

export class ApprovalBroker {
  /** The requests, with the newest per key (the change and the session), so a retry re-uses it instead of opening another page. */
  private readonly store: ApprovalStore;
  private readonly now: () => number;
  private origin: string | undefined;
  private server: Server | undefined;
  private starting: Promise<string> | undefined;

  constructor(private readonly opts: ApprovalBrokerOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.store = opts.store ?? new MemoryApprovalStore(this.now);
    this.origin = opts.origin?.replace(/\/+$/, '');
  }

  /** The origin of the page, starting the loopback server if this broker has none yet. */
  async listen(): Promise<string> {
    if (this.origin !== undefined) return this.origin;
    this.starting ??= new Promise<string>((resolve, reject) => {
      const server = createServer((req, res) => {
        this.handle(req, res).catch((err: unknown) => {
          this.opts.log?.error({ err }, 'approval page request failed');
          if (!res.headersSent) this.send(res, 500, renderResultPage('not_found'));
          else res.end();
        });
      });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        // The page must not keep a process alive that is otherwise done (stdio closes on stdin end).
        server.unref();
        this.server = server;
        this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        this.opts.log?.info({ origin: this.origin }, 'approval page server listening');
        resolve(this.origin);
      });
    });
    return this.starting;
  }

  /**
   * Opens an approval request for `key`, or re-uses the one already open for it: pending and not expired, or
   * decided within the last 10 minutes and not yet used by a tool call. `owner` is the session asking.
   */
  async open(key: string, request: PageRequest, owner: string): Promise<OpenedApproval> {
    const origin = await this.listen();
    const now = this.now();
    const keyDigest = keyDigestOf(key);
    const existing = await this.store.byKey(keyDigest);
    if (existing && reusable(existing, now)) {
      const { id, createdAt, expiresAt } = existing.rec;
      return { id, url: `${origin}/approve/${id}`, createdAt, expiresAt, created: false };
    }
    await checkOpenLimits(this.store, now, ownerDigestOf(owner), MAX_OPEN);
    const rec = { id: randomBytes(16).toString('base64url'), keyDigest, ownerDigest: ownerDigestOf(owner), request, createdAt: now, expiresAt: now + APPROVAL_TTL_MS };
    await this.store.create(rec);
    const url = `${origin}/approve/${rec.id}`;
    this.opts.log?.info({ tool: request.tool, approval: rec.id.slice(0, 6) }, 'approval requested');
    this.opts.openBrowser?.(url);
    return { id: rec.id, url, createdAt: rec.createdAt, expiresAt: rec.expiresAt, created: true };
  }

  /** Request `id` as the gate may see it; undefined when unknown or forgotten. */
  async info(id: string): Promise<ApprovalInfo | undefined> {
    if (!ID_RE.test(id)) return undefined;
    const s = await this.store.get(id);
    return s && { id, keyDigest: s.rec.keyDigest, ownerDigest: s.rec.ownerDigest, summary: s.rec.request.summary, expiresAt: s.rec.expiresAt, decision: s.decision, taken: s.taken };
  }

  /** Runs `fn` once when request `id` is decided, on any replica's page (at once if it already is). */
  onDecided(id: string, fn: () => void): void {
    this.store.onDecided(id, fn);
  }

  /** The decision of request `id` for the one tool call that acts on it; undefined if none, or already used. */
  async take(id: string): Promise<Decision | undefined> {
    const s = await this.store.get(id);
    if (!s?.decision || s.taken) return undefined;
    return (await this.store.take(id)) ? s.decision : undefined;
  }

  /** Whether the page signs people in (and accepts only the person who asked). */
  get signInRequired(): boolean {
    return this.opts.signIn !== undefined;
  }

  /** Serves `/approve/<id>`: GET shows the page, POST decides; and `/approve/callback` with sign-in. Any other path is 404. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.hostAllowed(req.headers.host)) {
      this.opts.log?.warn({ host: req.headers.host }, 'approval page: refused an unexpected Host header');
      return this.send(res, 403, renderResultPage('refused', { detail: 'The Host header is not one this server answers to' }));
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === CALLBACK_PATH && this.opts.signIn) return this.callback(req, res, this.opts.signIn);
    const m = /^\/approve\/([^/]*)$/.exec(path);
    const state = m && ID_RE.test(m[1]) ? await this.store.get(m[1]) : undefined;
    if (!state) return this.send(res, 404, renderResultPage('not_found'));
    const { rec } = state;
    const now = this.now();
    // With sign-in, what the request is about, and when it was decided, is shown to the person who asked only
    // (on the page, once signed in).
    const summary = this.opts.signIn ? undefined : rec.request.summary;
    const decided = (d: Decision) => (this.opts.signIn ? undefined : decidedText(d));

    if (req.method === 'GET' || req.method === 'HEAD') {
      if (state.decision) return this.send(res, 200, renderResultPage('already', { summary, detail: decided(state.decision) }));
      if (now > rec.expiresAt) return this.send(res, 410, renderResultPage('expired', { summary }));
      // Each view gets a CSRF token; the cookie a browser already holds for this page is kept (a second tab
      // stays valid), else a new one. Only the digest of the pair is stored, so any replica's page checks it.
      const held = cookieValue(req.headers.cookie, COOKIE);
      if (this.opts.signIn && !(held && SECRET_RE.test(held) && matchesDigest(signedInDigest(held), await this.store.passes(rec.id)))) {
        return this.startSignIn(req, res, rec, this.opts.signIn);
      }
      const cookie = held && SECRET_RE.test(held) ? held : randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      if (!(await this.store.addPass(rec.id, passDigest(csrf, cookie), rec.expiresAt))) return this.tooManyViews(res, rec.id);
      const page = renderApprovalPage({ request: rec.request, action: `/approve/${rec.id}`, csrf, createdAt: rec.createdAt, expiresAt: rec.expiresAt });
      return this.send(res, 200, page, { 'set-cookie': this.cookieHeader(rec.id, cookie, this.secondsLeft(rec)) });
    }
    if (req.method !== 'POST') return this.send(res, 405, renderResultPage('refused', { detail: 'Only GET and POST are answered here' }), { allow: 'GET, POST' });

    const form = await readForm(req);
    const refuse = (status: number, why: string, kind: ResultKind = 'refused') => {
      this.opts.log?.warn({ approval: rec.id.slice(0, 6), reason: why }, 'approval page: refused a submission');
      return this.send(res, status, renderResultPage(kind, { summary, detail: why }));
    };
    if (form === undefined) return refuse(400, 'The form could not be read');
    // Browser-only provenance: the page's own origin, submitted from the page itself.
    const host = (req.headers.host ?? '').toLowerCase();
    const origin = req.headers.origin;
    if (origin === undefined || (origin.toLowerCase() !== `http://${host}` && origin.toLowerCase() !== `https://${host}`)) {
      return refuse(403, 'It came from another site, or from a program rather than this page in a browser');
    }
    if (req.headers['sec-fetch-site'] !== 'same-origin') return refuse(403, 'It was not submitted from this page in a browser');
    if (state.decision) return this.send(res, 409, renderResultPage('already', { summary, detail: decided(state.decision) }));
    if (now > rec.expiresAt) return refuse(410, 'The link has expired', 'expired');
    const csrf = form.get('csrf');
    const cookie = cookieValue(req.headers.cookie, COOKIE);
    const passes = await this.store.passes(rec.id);
    if (!csrf || !cookie || !matchesDigest(passDigest(csrf, cookie), passes)) {
      return refuse(403, 'Its security token does not belong to this page in this browser (reload the page from the link and try again)');
    }
    if (this.opts.signIn && !matchesDigest(signedInDigest(cookie), passes)) {
      return refuse(403, 'This browser is not signed in as the person who asked (open the link again to sign in)');
    }
    const choice = form.get('decision');
    if (choice !== 'approve' && choice !== 'reject') return refuse(400, 'It chose neither Approve nor Reject');

    const ua = req.headers['user-agent'];
    const decision: Decision = { approved: choice === 'approve', decidedAt: now, userAgent: ua ? ua.slice(0, MAX_USER_AGENT) : null };
    if (!(await this.store.decide(rec.id, decision))) {
      // Decided meanwhile, in another tab or on another replica's page.
      const other = (await this.store.get(rec.id))?.decision;
      return this.send(res, 409, renderResultPage('already', { summary, detail: other ? decided(other) : undefined }));
    }
    this.opts.log?.info({ approval: rec.id.slice(0, 6), tool: rec.request.tool, approved: decision.approved }, 'approval decided');
    return this.send(res, 200, renderResultPage(decision.approved ? 'approved' : 'rejected', { summary: rec.request.summary, at: now }), {
      'set-cookie': this.cookieHeader(rec.id, '', 0),
    });
  }

  /**
   * The browser has no sign-in for this request: send it to the identity provider, with the request's sign-in
   * cookie (re-used if the browser has it: a second tab), SameSite=Lax since the identity provider's redirect
   * back is a cross-site navigation.
   */
  private async startSignIn(req: IncomingMessage, res: ServerResponse, rec: { id: string; expiresAt: number; request: PageRequest }, signIn: PageSignIn): Promise<void> {
    if (!rec.request.requester.person) {
      // The gate opens no such request with sign-in on; a request from before a restart with other settings could be.
      return this.send(res, 403, renderResultPage('refused', { detail: 'This change was not asked for by a signed-in person, and this page accepts only the person who asked' }));
    }
    const name = signInCookieName(rec.id);
    let started;
    try {
      // Nothing is stored here: anyone holding the link may start sign-ins without using up the request's room.
      started = await signIn.begin(rec.id, cookieValue(req.headers.cookie, name));
    } catch (err) {
      if (!(err instanceof SignInFailed)) throw err;
      return this.send(res, err.status, renderResultPage('refused', { detail: err.message }));
    }
    this.redirect(res, started.location, [this.cookie(name, SIGNIN_COOKIE_PATH, started.cookie, this.secondsLeft(rec))]);
  }

  /**
   * `/approve/callback`: the identity provider sends the browser back. Only the browser that started the
   * sign-in can finish it (the state's MAC under its sign-in cookie), and only the person who asked is signed in
   * to the page: a new page cookie, whose digest is stored as signed in, then the page. The sign-in cookie is
   * cleared whatever the outcome.
   */
  private async callback(req: IncomingMessage, res: ServerResponse, signIn: PageSignIn): Promise<void> {
    if (req.method !== 'GET') return this.send(res, 405, renderResultPage('refused', { detail: 'Only GET is answered here' }), { allow: 'GET' });
    const url = new URL(req.url ?? '/', this.origin ?? 'http://localhost');
    const stateParam = url.searchParams.get('state');
    const id = approvalIdOfState(stateParam);
    const state = id ? await this.store.get(id) : undefined;
    if (!state || !stateParam) return this.send(res, 404, renderResultPage('not_found'));
    const { rec } = state;
    const cookieName = signInCookieName(rec.id);
    const clear = this.cookie(cookieName, SIGNIN_COOKIE_PATH, '', 0);
    // Nothing of the request is shown before the person who asked is signed in.
    const refuse = (status: number, why: string) => {
      this.opts.log?.warn({ approval: rec.id.slice(0, 6), reason: why }, 'approval page: refused a sign-in');
      return this.send(res, status, renderResultPage('refused', { detail: why }), { 'set-cookie': clear });
    };
    if (state.decision) return this.send(res, 200, renderResultPage('already'), { 'set-cookie': clear });
    if (this.now() > rec.expiresAt) return this.send(res, 410, renderResultPage('expired'), { 'set-cookie': clear });
    const cookie = cookieValue(req.headers.cookie, cookieName);
    if (!stateMatches(stateParam, cookie)) return refuse(403, 'This sign-in was not started from the approval link in this browser');
    // Room for the signed-in cookie is checked before the code is spent.
    if ((await this.store.passes(rec.id)).length >= MAX_PASSES) return this.tooManyViews(res, rec.id, clear);
    let who;
    try {
      who = await signIn.finish(url, cookie!);
    } catch (err) {
      if (!(err instanceof SignInFailed)) throw err;
      return refuse(err.status, err.message);
    }
    const asker = rec.request.requester.person;
    if (!asker || who.sub !== asker.sub) {
      // Who asked is not told to whoever else signs in (the log has both, for the admin).
      this.opts.log?.warn({ approval: rec.id.slice(0, 6), signedIn: personText(who), requester: asker ? personText(asker) : null }, 'approval page: another person signed in');
      return this.send(res, 403, renderResultPage('refused', { detail: `You signed in as ${personText(who)}, but another person asked for this change: only they can approve or reject it` }), { 'set-cookie': clear });
    }
    const pageCookie = randomBytes(32).toString('base64url');
    if (!(await this.store.addPass(rec.id, signedInDigest(pageCookie), rec.expiresAt))) return this.tooManyViews(res, rec.id, clear);
    this.opts.log?.info({ approval: rec.id.slice(0, 6) }, 'approval page: the person who asked signed in');
    this.redirect(res, `/approve/${rec.id}`, [this.cookieHeader(rec.id, pageCookie, this.secondsLeft(rec)), clear]);
  }

  /** The request has recorded MAX_PASSES page views: something re-loads the link; nothing more is stored. */
  private tooManyViews(res: ServerResponse, id: string, setCookie?: string): void {
    this.opts.log?.warn({ approval: id.slice(0, 6) }, 'approval page: too many views of one link, refused');
    const detail = 'This link has been opened too many times. Once it expires (10 minutes after it was made), ask the assistant again for a new one';
    this.send(res, 429, renderResultPage('refused', { detail }), setCookie ? { 'set-cookie': setCookie } : {});
  }

  /** Stops the loopback server (if this broker started one). */
  async close(): Promise<void> {
    await this.store.close();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private hostAllowed(hostHeader: string | undefined): boolean {
    if (!hostHeader) return false;
    const host = hostHeader.toLowerCase();
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
    if (isLoopbackHost(name)) return true;
    const allowed = this.opts.allowedHosts ?? [];
    return allowed.includes(host) || allowed.includes(name);
  }

  /** A cookie's Max-Age for request `rec`: until it expires. */
  private secondsLeft(rec: { expiresAt: number }): number {
    return Math.ceil((rec.expiresAt - this.now()) / 1000);
  }

  private cookieHeader(id: string, value: string, maxAgeSeconds: number): string {
    return this.cookie(COOKIE, `/approve/${id}`, value, maxAgeSeconds);
  }

  /**
   * SameSite=Strict, except with sign-in: the page is then reached through the identity provider's redirect (a
   * cross-site navigation), which carries Lax cookies only. A decision still needs the CSRF token, the page's
   * own Origin and Sec-Fetch-Site, and a cross-site POST carries no Lax cookie.
   */
  private cookie(name: string, path: string, value: string, maxAgeSeconds: number): string {
    const secure = this.origin?.startsWith('https:') ? '; Secure' : '';
    const sameSite = this.opts.signIn ? 'Lax' : 'Strict';
    return `${name}=${maxAgeSeconds > 0 ? value : ''}; Path=${path}; Max-Age=${Math.max(0, maxAgeSeconds)}; HttpOnly; SameSite=${sameSite}${secure}`;
  }

  /** 303 to `location`; no Referer leaves with it (the approval link stays on this site). */
  private redirect(res: ServerResponse, location: string, cookies: string[]): void {
    res.writeHead(303, { location, 'set-cookie': cookies, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': '0' });
    res.end();
  }

  private send(res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': approvalCsp(),
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      // Not `no-referrer`: with it, browsers send `Origin: null` on the form's POST and the origin check
      // could not work. `same-origin` is as tight here, since the page loads and links nothing elsewhere.
      'referrer-policy': 'same-origin',
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
      ...headers,
    });
    res.end(html);
  }
}

function personText(p: { sub: string; email?: string; name?: string }): string {
  return p.email ?? p.name ?? `subject ${p.sub}`;
}

function decidedText(d: Decision): string {
  return `It was ${d.approved ? 'approved' : 'rejected'} at ${new Date(d.decidedAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Opens `url` in the desktop's default browser (SALES_ACCESS_OPEN_BROWSER=1); failures are only logged. */
export function openInBrowser(url: string, log?: Logger): void {
  // The URL is built here from an origin and a base64url id; it is passed as one argument, never through a shell.
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['rundll32', ['url.dll,FileProtocolHandler', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', (err) => log?.warn({ err: err.message }, 'could not open the approval page in a browser'));
    child.unref();
  } catch (err) {
    log?.warn({ err: (err as Error).message }, 'could not open the approval page in a browser');
  }
}

// ---------------------------------------------------------------------------------------------------------
// One broker per process (per Deps): the tools' gate and the HTTP server share it.

const brokers = new WeakMap<Deps, ApprovalBroker>();

/** The broker of these deps; without one set by the HTTP server, a loopback one (stdio) is made on first use. */
export function approvalsFor(deps: Deps): ApprovalBroker {
  let b = brokers.get(deps);
  if (!b) {
    const { config, log } = deps;
    b = new ApprovalBroker({
      now: () => deps.clock.now(),
      store: approvalStoreFor(deps),
      log,
      openBrowser: config.approval.openBrowser && config.transport === 'stdio' ? (url) => openInBrowser(url, log) : undefined,
    });
    brokers.set(deps, b);
  }
  return b;
}

/** Redis when configured (the replicas share requests and decisions), else this process's memory. */
export function approvalStoreFor(deps: Pick<Deps, 'redis' | 'clock'>): ApprovalStore {
  return deps.redis ? new RedisApprovalStore(deps.redis, () => deps.clock.now()) : new MemoryApprovalStore(() => deps.clock.now());
}

/** The HTTP server registers the broker that its own /approve/ route serves. */
export function setApprovals(deps: Deps, broker: ApprovalBroker): void {
  brokers.set(deps, broker);
}

/** Closes the loopback approval server of these deps, if one was started. */
export async function closeApprovals(deps: Deps): Promise<void> {
  await brokers.get(deps)?.close();
}
