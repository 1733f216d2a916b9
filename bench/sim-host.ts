/**
 * Child process for the benchmarks: starts the bench sandbox (src/sandbox/index.ts startSandbox) with the
 * options given as JSON in argv[2], and sends the parent over IPC what the server config needs (URLs, tokens,
 * keys: the fields src/sandbox/index.ts sandboxConfig reads) plus the simulators' seat counts. The simulators
 * then use this process's CPU, not the server's. Started by bench/sim-client.ts with child_process.fork.
 *
 * Messages in: {type:'stats'} (replies {type:'stats', ...SimHostStats}), {type:'close'} (closes the
 * simulators and exits). The host exits by itself when the parent goes away (IPC disconnect).
 */
import { SANDBOX_VENDORS as VENDORS } from '../src/sandbox/index.js';
import type { Sandbox } from '../src/sandbox/index.js';
import { startSandbox, type SandboxOptions } from '../src/sandbox/index.js';

const MB = 1024 * 1024;

/** The parts of a Sandbox that sandboxConfig reads, plain data. */
export interface RemoteSandboxInfo {
  outreach: { baseUrl: string; tokenUrl: string; authorizeUrl: string; staticAccessToken: string };
  salesloft: { baseUrl: string; tokenUrl: string; authorizeUrl: string; token: string; teamId: number };
  apollo: { baseUrl: string; tokenUrl: string; masterKey: string; windowScale: number };
  zoominfo: { baseUrl: string; username: string; password: string };
  scim: Record<string, { url: string; token: string }>;
}

export interface SimHostStats {
  /** CPU time of the host process since it started, ms (user + system). */
  cpu_ms: number;
  rss_mb: number;
  /** Sampled (every 20 ms) peak RSS since the previous stats message. */
  section_peak_rss_mb: number;
  peak_rss_mb_sampled: number;
  max_rss_mb: number;
}

export type SimHostMessage =
  | { type: 'ready'; info: RemoteSandboxInfo; counts: Record<string, number>; startup_ms: number }
  | ({ type: 'stats' } & SimHostStats)
  | { type: 'error'; message: string };

function describe(s: Sandbox): RemoteSandboxInfo {
  return {
    outreach: { baseUrl: s.outreach.baseUrl, tokenUrl: s.outreach.tokenUrl, authorizeUrl: s.outreach.authorizeUrl, staticAccessToken: s.outreach.staticAccessToken },
    salesloft: { baseUrl: s.salesloft.baseUrl, tokenUrl: s.salesloft.tokenUrl, authorizeUrl: s.salesloft.authorizeUrl, token: s.salesloft.token, teamId: s.salesloft.teamId },
    apollo: { baseUrl: s.apollo.baseUrl, tokenUrl: s.apollo.tokenUrl, masterKey: s.apollo.masterKey, windowScale: s.apollo.windowScale },
    zoominfo: { baseUrl: s.zoominfo.baseUrl, username: s.zoominfo.username, password: s.zoominfo.password },
    scim: Object.fromEntries(VENDORS.map((v) => [v, { url: s.scim[v].url, token: s.scim[v].token }])),
  };
}

/** Seats per simulator, as the benchmark reports them. */
export function sandboxCounts(s: Sandbox): Record<string, number> {
  return {
    outreach_rest: s.outreach.users().length,
    salesloft_rest: s.salesloft.users().filter((u) => u.team_id === s.salesloft.teamId).length,
    apollo_rest: s.apollo.users().length,
    ...Object.fromEntries(VENDORS.map((v) => [`${v}_scim`, s.scim[v].users().length])),
  };
}

async function main(): Promise<void> {
  const send = (m: SimHostMessage) => process.send?.(m);
  if (!process.send) throw new Error('sim-host must be started with an IPC channel (child_process.fork)');
  let peak = process.memoryUsage().rss;
  let sectionPeak = peak;
  const timer = setInterval(() => {
    const rss = process.memoryUsage().rss;
    peak = Math.max(peak, rss);
    sectionPeak = Math.max(sectionPeak, rss);
  }, 20);
  timer.unref();

  const opts = JSON.parse(process.argv[2] ?? '{}') as SandboxOptions;
  const t0 = performance.now();
  const sandbox = await startSandbox(opts);
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    clearInterval(timer);
    await sandbox.close().catch(() => {});
    process.exit(code);
  };
  process.on('disconnect', () => void shutdown(0));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stats') {
      const c = process.cpuUsage();
      const rss = process.memoryUsage().rss;
      peak = Math.max(peak, rss);
      const section = Math.max(sectionPeak, rss);
      sectionPeak = rss;
      send({
        type: 'stats',
        cpu_ms: Math.round((c.user + c.system) / 1000),
        rss_mb: Math.round(rss / MB),
        section_peak_rss_mb: Math.round(section / MB),
        peak_rss_mb_sampled: Math.round(peak / MB),
        max_rss_mb: Math.round((process.resourceUsage().maxRSS * 1024) / MB),
      });
    } else if (m?.type === 'close') {
      void shutdown(0);
    }
  });
  send({ type: 'ready', info: describe(sandbox), counts: sandboxCounts(sandbox), startup_ms: Math.round(performance.now() - t0) });
}

main().catch((err: unknown) => {
  process.send?.({ type: 'error', message: (err as Error)?.stack ?? String(err) } satisfies SimHostMessage);
  process.exit(1);
});
