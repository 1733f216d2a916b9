import { ConfigError, secret, url, type Env } from '../env.js';
import type { VendorAdapter, RestApi } from './adapter.js';
import type { ConnectOptions } from './connect-options.js';
import type { ScimClient } from './scim/client.js';
import { createScimClient, type ScimConnectionConfig } from './scim/connect.js';

/**
 * A registered adapter joined with what is configured for it: its REST side (when credentials are set) and
 * its SCIM client (when a SCIM token is set). Built once per process by createDeps; every MCP session shares it.
 */
export interface VendorConnection<R extends RestApi = RestApi> {
  readonly adapter: VendorAdapter<unknown, R>;
  readonly rest: R | undefined;
  readonly scim: ScimClient | undefined;
  /** The SCIM base URL (never the token), or null. */
  readonly scimUrl: string | null;
  close(): Promise<void>;
}

/** One adapter's part of the configuration: its own settings and its SCIM connection. */
export interface VendorSection {
  settings: unknown;
  scim: ScimConnectionConfig | undefined;
}

export function scimEnvNames(adapter: Pick<VendorAdapter, 'envPrefix'>): { url: string; token: string } {
  return { url: `${adapter.envPrefix}_SCIM_URL`, token: `${adapter.envPrefix}_SCIM_TOKEN` };
}

/** Reads an adapter's variables: its REST settings (the adapter's own reader) and `<PREFIX>_SCIM_*`. */
export function readVendorSection(adapter: VendorAdapter, env: Env): VendorSection {
  return { settings: adapter.settings(env), scim: readScim(adapter, env) };
}

/** The SCIM connection of a vendor: present only when its token is set. */
function readScim(adapter: VendorAdapter, env: Env): ScimConnectionConfig | undefined {
  const names = scimEnvNames(adapter);
  const token = secret(env, names.token);
  if (token === undefined) return undefined;
  const base = env[names.url] ? url(env, names.url) : adapter.scim.defaultUrl;
  if (base === undefined) {
    throw new ConfigError(`${names.url} is required with ${names.token}: the SCIM base URL is tenant-specific (shown where the SCIM token is generated).`);
  }
  return { url: base, token };
}

/** The SCIM client of one adapter's SCIM connection; its messages name the adapter's variables. */
export function scimClientFor(adapter: VendorAdapter, cfg: ScimConnectionConfig, opts: ConnectOptions): ScimClient {
  const names = scimEnvNames(adapter);
  return createScimClient(
    { vendor: adapter.id, label: adapter.label, tokenVariable: names.token, hint: `Check ${names.token} (the SCIM bearer token ${adapter.scim.tokenSource}; it is not the REST/OAuth credential) and ${names.url}.` },
    cfg,
    opts,
  );
}

export async function connectVendor(adapter: VendorAdapter, section: VendorSection, opts: ConnectOptions): Promise<VendorConnection> {
  const rest = adapter.hasCredentials(section.settings) ? await adapter.connectRest(section.settings, opts) : undefined;
  const scim = section.scim ? scimClientFor(adapter, section.scim, opts) : undefined;
  return {
    adapter,
    rest,
    scim,
    scimUrl: section.scim?.url ?? null,
    async close() {
      await rest?.close();
      await scim?.close();
    },
  };
}

type WithVendors = { vendors: Record<string, VendorSection> };

/** An enabled adapter's settings, typed as its adapter reads them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- only the settings type matters here
export function settingsOf<S>(config: WithVendors, adapter: VendorAdapter<S, any>): S {
  const section = config.vendors[adapter.id];
  if (!section) throw new Error(`${adapter.label} is not enabled in this configuration`);
  return section.settings as S;
}

/** The configuration with one enabled adapter's settings (and optionally its SCIM connection) replaced. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- only the settings type matters here
export function withSettings<C extends WithVendors, S>(config: C, adapter: VendorAdapter<S, any>, patch: (s: S) => S, scim?: VendorSection['scim'] | null): C {
  const section = config.vendors[adapter.id];
  if (!section) return config;
  const next: VendorSection = { settings: patch(section.settings as S), scim: scim === undefined ? section.scim : (scim ?? undefined) };
  return { ...config, vendors: { ...config.vendors, [adapter.id]: next } };
}
