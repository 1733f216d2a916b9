import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { calculatePKCECodeChallenge, generateRandomCodeVerifier, generateRandomState } from 'oauth4webapi';
import type { Dispatcher } from 'undici';
import { systemClock, type Clock } from '../clock.js';
import type { VendorId as Vendor } from '../domain/account.js';
import { VendorError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { requestToken, usableAccessToken, type ClientAuthMethod } from './oauth.js';
import type { TokenStorage } from './token-store.js';

export interface AuthorizationCodeFlowOptions {
  vendor: Vendor;
  /** How messages name the vendor, e.g. "SalesLoft". */
  label?: string;
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  /** Default client_secret_post. */
  clientAuth?: ClientAuthMethod;
  /**
   * Exactly as registered with the vendor, e.g. http://127.0.0.1:8765/callback. Must be http on a loopback
   * host with an explicit port: the flow listens there.
   */
  redirectUri: string;
  scopes: string[];
  store: TokenStorage;
  /** One line for the admin; goes to stderr (stdout may belong to an MCP transport). */
  print: (line: string) => void;
  openBrowser?: (url: string) => Promise<void> | void;
  /** Default 5 minutes. */
  timeoutMs?: number;
  /** Tests: an undici MockAgent for the token request. */
  dispatcher?: Dispatcher;
  clock?: Clock;
  /** For the token request's HTTP core; default silent, since `print` already tells the admin what happens. */
  log?: Logger;
}

/**
 * Interactive authorization-code flow with PKCE (S256) and a loopback redirect (RFC 8252). Stores the
 * tokens through the TokenStore and resolves with the scopes the vendor granted, when it says.
 */
export async function runAuthorizationCodeFlow(opts: AuthorizationCodeFlowOptions): Promise<{ scopes?: string }> {
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 5 * 60_000;
  const redirect = parseLoopbackRedirect(opts.redirectUri);

  const verifier = generateRandomCodeVerifier();
  const challenge = await calculatePKCECodeChallenge(verifier);
  const state = generateRandomState();
  const authUrl = new URL(opts.authorizeUrl);
  authUrl.searchParams.set('response_type', 'code');
  authUrl.searchParams.set('client_id', opts.clientId);
  authUrl.searchParams.set('redirect_uri', opts.redirectUri);
  if (opts.scopes.length) authUrl.searchParams.set('scope', opts.scopes.join(' '));
  authUrl.searchParams.set('state', state);
  authUrl.searchParams.set('code_challenge', challenge);
  authUrl.searchParams.set('code_challenge_method', 'S256');

  let settle!: { resolve: (v: { scopes?: string }) => void; reject: (e: unknown) => void };
  const outcome = new Promise<{ scopes?: string }>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // A callback may fail while openBrowser is still pending; without a handler attached now, Node would
  // treat that rejection as unhandled and exit. The race below still receives it.
  outcome.catch(() => {});
  // The first callback on the redirect path decides; later ones (a reload, a second tab) only get a page.
  let handled = false;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://loopback');
    if (req.method !== 'GET' || url.pathname !== redirect.pathname) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
      return;
    }
    if (handled) {
      await page(res, 409, 'Already handled', 'This sign-in was already handled. You can close this tab.');
      return;
    }
    handled = true;
    const q = url.searchParams;
    // State first: a callback that does not carry our state was not started by this run (a stale tab, or
    // a page forging a login), so even its error code is not trusted.
    if (q.get('state') !== state) {
      await page(res, 400, 'Sign-in not accepted', 'This sign-in link does not belong to the running command (state mismatch). Run the command again and use the new link.');
      settle.reject(flowError(opts.vendor, `The authorization callback had a ${q.has('state') ? 'wrong' : 'missing'} state parameter, so it was refused (possible stale link or forged request). Run \`sales-access-mcp auth ${opts.vendor}\` again.`));
      return;
    }
    const error = q.get('error');
    if (error !== null) {
      const code = /^[\w.-]{1,64}$/.test(error) ? error : 'unrecognised_error';
      const hint = code === 'access_denied' ? 'The sign-in was cancelled or access was denied.' : `The vendor answered ${code}.`;
      await page(res, 400, 'Sign-in failed', `${hint} Return to the terminal for details.`);
      settle.reject(flowError(opts.vendor, `Authorization failed: ${hint} Run \`sales-access-mcp auth ${opts.vendor}\` again.`));
      return;
    }
    const code = q.get('code');
    if (!code) {
      await page(res, 400, 'Sign-in failed', 'The callback carried no authorization code. Return to the terminal.');
      settle.reject(flowError(opts.vendor, 'The authorization callback carried no code.'));
      return;
    }
    try {
      // Sent once: a code is single use, so a lost answer ends the flow with "run the command again"
      // (see requestToken).
      const token = await requestToken({
        vendor: opts.vendor,
        label: opts.label,
        tokenUrl: opts.tokenUrl,
        clientId: opts.clientId,
        clientSecret: opts.clientSecret,
        clientAuth: opts.clientAuth,
        params: { grant_type: 'authorization_code', code, redirect_uri: opts.redirectUri, code_verifier: verifier },
        dispatcher: opts.dispatcher,
        clock,
        log: opts.log ?? silentLogger,
      });
      // Saved before the access token is checked, as in the refresh path: the refresh token is the valuable part.
      await opts.store.write(opts.vendor, {
        access_token: token.access_token,
        access_expires_at:
          token.expires_in !== undefined ? new Date(clock.now() + token.expires_in * 1000).toISOString() : undefined,
        refresh_token: token.refresh_token,
        scope: token.scope,
      }, opts.clientId);
      usableAccessToken(opts, token);
      if (!token.refresh_token) {
        opts.print(
          `Warning: ${opts.vendor} returned no refresh token; the server will need this command again when the access token expires.`,
        );
      }
      await page(res, 200, 'Signed in', 'sales-access-mcp is authorised. You can close this tab.');
      settle.resolve(token.scope !== undefined ? { scopes: token.scope } : {});
    } catch (err) {
      await page(res, 502, 'Sign-in failed', 'The token exchange failed. Return to the terminal for details.');
      settle.reject(err);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end();
      settle.reject(err);
    });
  });
  await listen(server, redirect.listenHost, redirect.port, opts.redirectUri);

  const timer = new AbortController();
  try {
    opts.print(`Open this URL in a browser to authorise sales-access-mcp for ${opts.vendor}:`);
    opts.print(authUrl.toString());
    opts.print(`Waiting for the redirect to ${opts.redirectUri} (times out in ${formatDuration(timeoutMs)})...`);
    const timeout = clock.sleep(timeoutMs, timer.signal).then(
      () => {
        throw flowError(
          opts.vendor,
          `No authorization callback within ${formatDuration(timeoutMs)}; run \`sales-access-mcp auth ${opts.vendor}\` again.`,
        );
      },
      () => new Promise<never>(() => {}),
    );
    if (opts.openBrowser) {
      const open = opts.openBrowser;
      // Not awaited: a browser launcher that never returns must not keep the flow from timing out.
      void Promise.resolve()
        .then(() => open(authUrl.toString()))
        .catch(() => opts.print('Could not open a browser; open the URL above by hand.'));
    }
    return await Promise.race([outcome, timeout]);
  } finally {
    timer.abort();
    await closeServer(server);
  }
}

interface LoopbackRedirect {
  listenHost: string;
  port: number;
  pathname: string;
}

/** Refuses anything but http://<loopback>:<port>/path: the flow must not listen on a reachable interface. */
export function parseLoopbackRedirect(redirectUri: string): LoopbackRedirect {
  let u: URL;
  try {
    u = new URL(redirectUri);
  } catch {
    throw new Error(`The redirect URI ${JSON.stringify(redirectUri)} is not a valid URL.`);
  }
  const hosts: Record<string, string> = {
    '127.0.0.1': '127.0.0.1',
    '[::1]': '::1',
    // RFC 8252 §8.3 prefers the IP literal; browsers fall back to 127.0.0.1 when ::1 refuses.
    localhost: '127.0.0.1',
  };
  const listenHost = hosts[u.hostname];
  if (u.protocol !== 'http:' || listenHost === undefined) {
    throw new Error(
      `The redirect URI must be http on a loopback address (http://127.0.0.1:<port>/callback), not ${u.protocol}//${u.hostname}: ` +
        'the authorization code must never reach a host other than this machine.',
    );
  }
  if (u.port === '') {
    throw new Error('The redirect URI needs an explicit port (e.g. http://127.0.0.1:8765/callback), the same one registered with the vendor.');
  }
  return { listenHost, port: Number(u.port), pathname: u.pathname };
}

function flowError(vendor: Vendor, message: string): VendorError {
  return new VendorError({ vendor, code: 'unauthorized', message });
}

function listen(server: Server, host: string, port: number, redirectUri: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `Cannot listen on ${redirectUri}: port ${port} is in use. Stop the other program (or a previous run) and try again.`
            : `Cannot listen on ${redirectUri}: ${err.code ?? err.message}`,
        ),
      );
    });
    server.listen(port, host, () => resolve());
  });
}

async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // Browsers keep the connection alive; without this close() waits for them.
    server.closeAllConnections();
  });
}

function page(res: ServerResponse, status: number, title: string, text: string): Promise<void> {
  const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>` +
    `<body style="font-family:system-ui,sans-serif;max-width:36em;margin:4em auto"><h1>${esc(title)}</h1><p>${esc(text)}</p></body></html>`;
  return new Promise((resolve) => {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // The URL of this page carries the code; do not let it leak to anything the page could load.
      'referrer-policy': 'no-referrer',
      connection: 'close',
    });
    res.end(html, () => resolve());
  });
}

function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? '' : 's'}`;
  return `${Math.round(ms / 1000)} seconds`;
}
