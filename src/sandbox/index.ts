import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { apolloAdapter } from '../vendors/apollo/adapter.js';
import { withSettings } from '../vendors/connection.js';
import { outreachAdapter } from '../vendors/outreach/adapter.js';
import { salesloftAdapter } from '../vendors/salesloft/adapter.js';
import { zoominfoAdapter } from '../vendors/zoominfo/adapter.js';
import type { ServeOptions } from './http-util.js';
import { startOutreachSimulator, type OutreachSim, type OutreachSimOptions } from './outreach/index.js';
import { SCIM_VENDORS, type ScimVendor, startScimSimulator, type ScimLink, type ScimSim } from './scim/index.js';
import { startZoomInfoSimulator, type ZoomInfoSim, type ZoomInfoSimOptions } from './zoominfo/index.js';
import { startSalesloftSimulator, type SalesloftSim, type SalesloftSimOptions } from './salesloft/index.js';
import { startApolloSimulator, type ApolloSim, type ApolloSimOptions } from './apollo/index.js';

/** The vendors the sandbox simulates: the built-in adapters'. */
export const SANDBOX_VENDORS = SCIM_VENDORS;
export type SandboxVendor = ScimVendor;

/** The embedded simulators behind --sandbox, the demo, the benchmarks and the end-to-end tests. */
export interface Sandbox {
  outreach: OutreachSim;
  salesloft: SalesloftSim;
  apollo: ApolloSim;
  zoominfo: ZoomInfoSim;
  /**
   * One SCIM 2.0 server per vendor, each with that vendor's documented quirks. Outreach's, SalesLoft's and
   * Apollo's are linked to their REST simulator (one user store behind both APIs, as at the vendor: a SCIM
   * deprovisioning shows over REST and a REST deactivation shows over SCIM); ZoomInfo's REST API has no seat
   * list, so its SCIM server keeps its own.
   */
  scim: Record<SandboxVendor, ScimSim>;
  close(): Promise<void>;
}

export interface SandboxOptions {
  clock?: Clock;
  /** Size of the company the seeds draw from (default 300). */
  userCount?: number;
  /**
   * Per-simulator options over the defaults above, for the benchmarks, which size each vendor separately
   * (userCount means something different to each simulator: see their options).
   */
  outreach?: Omit<OutreachSimOptions, 'clock'>;
  salesloft?: Omit<SalesloftSimOptions, 'clock'>;
  apollo?: Omit<ApolloSimOptions, 'clock'>;
  zoominfo?: Omit<ZoomInfoSimOptions, 'clock'>;
  /** People pool of ZoomInfo's SCIM directory, the one SCIM server not linked to a REST simulator. */
  zoominfoScimUserCount?: number;
  /** Every SCIM simulator's page-size cap (ServiceProviderConfig filter.maxResults; default 100). */
  scimMaxResults?: number;
  /** Every simulator's response latency (see ServeOptions.latencyMs); a per-simulator option wins. */
  latencyMs?: ServeOptions['latencyMs'];
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  // userCount means something different to each simulator (see their options): Outreach's is its seat count
  // (drawn from slightly fewer people), Apollo's and the SCIM simulator's the people their seats are drawn
  // from, SalesLoft's its team's seat count, so SalesLoft is not given the company size and seats its default
  // subset of the 300 people. All use the same seed (42), so the same key is the same person everywhere.
  const outreach = await startOutreachSimulator({ clock: opts.clock, userCount: opts.userCount, latencyMs: opts.latencyMs, ...opts.outreach });
  const salesloft = await startSalesloftSimulator({ clock: opts.clock, latencyMs: opts.latencyMs, ...opts.salesloft });
  const apollo = await startApolloSimulator({ clock: opts.clock, userCount: opts.userCount, latencyMs: opts.latencyMs, ...opts.apollo });
  const zoominfo = await startZoomInfoSimulator({ clock: opts.clock, latencyMs: opts.latencyMs, ...opts.zoominfo });
  // The REST simulators run first; the linked SCIM servers take their seats (and their people) from them, so
  // no userCount is passed to those: it would only size a people pool they do not use.
  const links: Partial<Record<SandboxVendor, ScimLink>> = {
    outreach: outreach.linkUsers(),
    salesloft: salesloft.linkUsers(),
    apollo: apollo.linkUsers(),
  };
  const scimList = await Promise.all(
    SANDBOX_VENDORS.map((vendor) => {
      const link = links[vendor];
      const common = { vendor, clock: opts.clock, maxResults: opts.scimMaxResults, latencyMs: opts.latencyMs };
      return startScimSimulator(link ? { ...common, link } : { ...common, userCount: opts.zoominfoScimUserCount ?? opts.userCount });
    }),
  );
  const scim = Object.fromEntries(scimList.map((s) => [s.vendor, s])) as Record<SandboxVendor, ScimSim>;
  return {
    outreach,
    salesloft,
    apollo,
    zoominfo,
    scim,
    async close() {
      await Promise.all([outreach.close(), salesloft.close(), apollo.close(), zoominfo.close(), ...scimList.map((s) => s.close())]);
    },
  };
}

/**
 * Points every enabled vendor at its simulator. Sandbox credentials are static tokens minted by the
 * simulators, so nothing is stored and nothing real is needed.
 */
export function sandboxConfig(config: Config, sandbox: Sandbox): Config {
  const scim = (v: SandboxVendor) => ({ url: sandbox.scim[v].url, token: sandbox.scim[v].token });
  let c = withSettings(
    config,
    outreachAdapter,
    (s) => ({
      ...s,
      baseUrl: sandbox.outreach.baseUrl,
      tokenUrl: sandbox.outreach.tokenUrl,
      authorizeUrl: sandbox.outreach.authorizeUrl,
      auth: { kind: 'bearer' as const, accessToken: sandbox.outreach.staticAccessToken },
    }),
    scim('outreach'),
  );
  c = withSettings(
    c,
    salesloftAdapter,
    (s) => ({
      ...s,
      baseUrl: sandbox.salesloft.baseUrl,
      tokenUrl: sandbox.salesloft.tokenUrl,
      authorizeUrl: sandbox.salesloft.authorizeUrl,
      auth: { kind: 'bearer' as const, apiKey: sandbox.salesloft.token },
    }),
    scim('salesloft'),
  );
  c = withSettings(
    c,
    apolloAdapter,
    (s) => ({
      ...s,
      baseUrl: sandbox.apollo.baseUrl,
      tokenUrl: sandbox.apollo.tokenUrl,
      auth: { kind: 'api_key' as const, apiKey: sandbox.apollo.masterKey },
      rateWindowScale: sandbox.apollo.windowScale,
    }),
    scim('apollo'),
  );
  return withSettings(
    c,
    zoominfoAdapter,
    (s) => ({ ...s, baseUrl: sandbox.zoominfo.baseUrl, username: sandbox.zoominfo.username, password: sandbox.zoominfo.password }),
    scim('zoominfo'),
  );
}
