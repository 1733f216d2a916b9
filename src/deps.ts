import type { Dispatcher } from 'undici';
import { AuditLog } from './audit/audit-log.js';
import type { AuthKind } from './auth/types.js';
import { TokenStore } from './auth/token-store.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Vendor } from './domain/account.js';
import type { HttpCore } from './http/core.js';
import type { Logger } from './log.js';
import { ResultStore } from './results.js';
import { join } from 'node:path';
import { createOutreachClient } from './vendors/outreach/connect.js';
import type { OutreachClient } from './vendors/outreach/client.js';
import type { ScimClient } from './vendors/scim/client.js';
import { createScimClient } from './vendors/scim/connect.js';
import { VENDORS } from './domain/account.js';
import { PlanStore } from './workflows/plan-store.js';
import { CreditLedger } from './credits/ledger.js';
import type { ZoomInfoClient } from './vendors/zoominfo/client.js';
import type { ApolloClient } from './vendors/apollo/client.js';
import type { SalesloftClient } from './vendors/salesloft/client.js';
import { createSalesloftClient } from './vendors/salesloft/connect.js';
import { createApolloClient } from './vendors/apollo/connect.js';
import { createZoomInfoClient } from './vendors/zoominfo/connect.js';

/** What a vendor connection looks like to list_connections and to the tool filter. */
export interface VendorConnection {
  vendor: Vendor;
  /** REST credentials present (or the sandbox). */
  rest: boolean;
  authKind: AuthKind | null;
  scim: { configured: boolean; url: string | null };
  /** For the rate-limit budget; absent when the vendor has no REST connection. */
  core: HttpCore | undefined;
}

/** Everything a tool handler may use. Built once per process and shared by every MCP session. */
export interface Deps {
  config: Config;
  log: Logger;
  clock: Clock;
  audit: AuditLog;
  results: ResultStore;
  tokens: TokenStore;
  outreach: OutreachClient | undefined;
  salesloft: SalesloftClient | undefined;
  apollo: ApolloClient | undefined;
  zoominfo: ZoomInfoClient | undefined;
  /** Persisted per-vendor monthly credit budget for every call that spends credits. */
  credits: CreditLedger;
  /** SCIM 2.0 clients of the vendors whose SCIM connection is configured. */
  scim: Partial<Record<Vendor, ScimClient>>;
  /** Offboarding plans (single use, 15 minutes). */
  plans: PlanStore;
  connections: VendorConnection[];
  close(): Promise<void>;
}

export interface DepsOptions {
  log: Logger;
  clock?: Clock;
  /** Tests pass an undici MockAgent. */
  dispatcher?: Dispatcher;
  /** Base delay of retry backoff; tests set a few ms. */
  retryBaseDelayMs?: number;
}

export async function createDeps(config: Config, opts: DepsOptions): Promise<Deps> {
  const clock = opts.clock ?? systemClock;
  const tokens = new TokenStore(config.stateDir);
  const enabled = new Set(config.vendors);

  const connectOpts = { tokens, clock, log: opts.log, dispatcher: opts.dispatcher, retryBaseDelayMs: opts.retryBaseDelayMs };
  const outreach = enabled.has('outreach') ? await createOutreachClient(config.outreach, connectOpts) : undefined;
  const salesloft = enabled.has('salesloft') ? await createSalesloftClient(config.salesloft, connectOpts) : undefined;
  const apollo = enabled.has('apollo') ? await createApolloClient(config.apollo, connectOpts) : undefined;
  const zoominfo = enabled.has('zoominfo') ? await createZoomInfoClient(config.zoominfo, connectOpts) : undefined;

  const scim: Partial<Record<Vendor, ScimClient>> = {};
  for (const vendor of VENDORS) {
    const cfg = config.scim[vendor];
    if (cfg && enabled.has(vendor)) scim[vendor] = createScimClient(vendor, cfg, connectOpts);
  }

  const rest = { outreach, salesloft, apollo, zoominfo } as const;
  const connections: VendorConnection[] = VENDORS.map((vendor) => ({
    vendor,
    rest: rest[vendor] !== undefined,
    authKind: rest[vendor]?.authKind ?? null,
    scim: { configured: scim[vendor] !== undefined, url: config.scim[vendor]?.url ?? null },
    core: rest[vendor]?.core,
  }));

  const audit = new AuditLog(config.auditLogPath, { clock });
  // Opened now so a log readable by others, or an unwritable path, stops start-up rather than the first write.
  await audit.open();

  return {
    config,
    log: opts.log,
    clock,
    audit,
    results: new ResultStore(join(config.stateDir, 'results')),
    tokens,
    outreach,
    salesloft,
    apollo,
    zoominfo,
    credits: new CreditLedger({ stateDir: config.stateDir, budget: config.creditBudget, clock }),
    scim,
    plans: new PlanStore(config.stateDir, clock),
    connections,
    async close() {
      await outreach?.core.close();
      await salesloft?.core.close();
      await apollo?.close();
      await zoominfo?.core.close();
      await Promise.all(Object.values(scim).map((c) => c.close()));
      await audit.close();
    },
  };
}
