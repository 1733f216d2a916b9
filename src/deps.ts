import type { Dispatcher } from 'undici';
import { AuditLog } from './audit/audit-log.js';
import { openTokenStore } from './auth/open-token-store.js';
import type { TokenStorage } from './auth/token-store.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { CreditLedger } from './credits/ledger.js';
import { RedisLedgerStorage } from './credits/redis-ledger.js';
import { SharedLimits } from './http/shared-limiter.js';
import { JobRunner } from './jobs/runner.js';
import { RedisJobStore } from './jobs/redis-store.js';
import { MemoryJobStore, type JobStore } from './jobs/store.js';
import type { Logger } from './log.js';
import type { SharedRedis } from './shared/redis.js';
import { RedisResultStore, ResultStore, resultsRoot, type ResultStorage } from './results.js';
import type { RestApi, VendorAdapter } from './vendors/adapter.js';
import { connectVendor, type VendorConnection } from './vendors/connection.js';
import { BUILTIN_ADAPTERS, type Registry } from './vendors/registry.js';
import { redisCapabilityCache } from './vendors/scim/redis-capabilities.js';
import { PlanStore, type PlanStorage } from './workflows/plan-store.js';
import { RedisPlanStore } from './workflows/redis-plan-store.js';

/** Everything a tool handler may use. Built once per process and shared by every MCP session. */
export interface Deps {
  config: Config;
  log: Logger;
  clock: Clock;
  audit: AuditLog;
  /** Large results served as resources: under the state directory, or in Redis when configured. */
  results: ResultStorage;
  tokens: TokenStorage;
  /** The process's Redis connection when SALES_ACCESS_REDIS_URL is set: the state the replicas share. */
  redis: SharedRedis | undefined;
  /** Every registered adapter (the tools' vendor enums are built from it). */
  registry: Registry;
  /** The enabled vendors, in registry order, each with its REST side and SCIM client where configured. */
  vendors: VendorConnection[];
  /** Persisted per-vendor monthly credit budget for every call that spends credits (files, or Redis when configured). */
  credits: CreditLedger;
  /** Offboarding plans (single use, 15 minutes): under the state directory, or in Redis when configured. */
  plans: PlanStorage;
  /** Tool work that outlives a call's deadline (jobs/runner.ts), over the job store (in-process, or Redis when configured). */
  jobs: JobRunner;
  close(): Promise<void>;
}

export interface DepsOptions {
  log: Logger;
  clock?: Clock;
  /** Tests pass an undici MockAgent. */
  dispatcher?: Dispatcher;
  /** Base delay of retry backoff; tests set a few ms. */
  retryBaseDelayMs?: number;
  /** Connect, headers and body timeouts of vendor requests; tests set short ones to meet a stalled answer. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** The adapters to use; default the built-in ones. A test adds a fake vendor here. */
  registry?: Registry;
}

export async function createDeps(config: Config, opts: DepsOptions): Promise<Deps> {
  const clock = opts.clock ?? systemClock;
  // With SALES_ACCESS_REDIS_URL this connects and pings Redis: unreachable is a start-up error.
  const store = await openTokenStore(config, { clock });
  const { tokens } = store;
  // With Redis, vendor rate limits are counted across the replicas (Bottleneck on Redis), never per replica.
  let limits: SharedLimits | undefined;
  try {
    limits = store.redis ? (await SharedLimits.open(store.redis)).install() : undefined;
  } catch (err) {
    await store.close();
    throw err;
  }
  const registry = opts.registry ?? BUILTIN_ADAPTERS;
  // With Redis, one replica's read of a SCIM server's capabilities serves the others for an hour.
  const scimCapabilities = store.redis ? redisCapabilityCache(store.redis) : undefined;
  const connectOpts = { tokens, clock, log: opts.log, dispatcher: opts.dispatcher, retryBaseDelayMs: opts.retryBaseDelayMs, timeouts: opts.timeouts, scimCapabilities };
  const vendors: VendorConnection[] = [];
  try {
    for (const adapter of registry) {
      const section = config.vendors[adapter.id];
      if (section) vendors.push(await connectVendor(adapter, section, connectOpts));
    }
  } catch (err) {
    await Promise.all(vendors.map((v) => v.close()));
    await limits?.close();
    await store.close();
    throw err;
  }

  // The writer names this process in every line: the replica id when set (several servers, one trail).
  const audit = new AuditLog(config.auditLogPath, { clock, writer: config.replicaId });
  // Opened now so a log readable by others, or an unwritable path, stops start-up rather than the first write.
  await audit.open();
  const labels = new Map(registry.map((a) => [a.id, a.label]));
  // With Redis, a job started here is attached to, collected and cancelled through any replica.
  const jobStore: JobStore = store.redis ? new RedisJobStore(store.redis, { now: () => clock.now(), replicaId: config.replicaId }) : new MemoryJobStore(() => clock.now());
  const jobs = new JobRunner(jobStore, { now: () => clock.now(), log: opts.log });
  // With Redis, one budget per vendor and month for every replica, reserved atomically.
  const ledgerStorage = store.redis ? new RedisLedgerStorage(store.redis, { replicaId: config.replicaId }) : undefined;
  const credits = new CreditLedger({ stateDir: config.stateDir, storage: ledgerStorage, budget: config.creditBudget, clock, labelOf: (v) => labels.get(v) ?? v });

  return {
    config,
    log: opts.log,
    clock,
    audit,
    results: store.redis ? new RedisResultStore(store.redis, config.retention.resultsMs) : new ResultStore(resultsRoot(config.stateDir), config.retention.resultsMs),
    tokens,
    redis: store.redis,
    registry,
    vendors,
    credits,
    // With Redis, plans and their execute lock are shared by the replicas; never the state directory then.
    plans: store.redis ? new RedisPlanStore(store.redis, clock, { replicaId: config.replicaId }) : new PlanStore(config.stateDir, clock),
    jobs,
    async close() {
      jobs.close();
      await jobStore.close?.();
      await ledgerStorage?.close();
      await Promise.all(vendors.map((v) => v.close()));
      await audit.close();
      await limits?.close();
      await store.close();
    },
  };
}

/** The connection of vendor `id`, when it is enabled. */
export function connectionOf(deps: Deps, id: string): VendorConnection | undefined {
  return deps.vendors.find((v) => v.adapter.id === id);
}

/**
 * The REST side of one adapter with its own type, for that vendor's tools; undefined when the vendor is not
 * enabled or has no REST credentials.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the adapter's settings type does not matter here
export function restOf<R extends RestApi>(deps: Deps, adapter: VendorAdapter<any, R>): R | undefined {
  const c = deps.vendors.find((v) => v.adapter === adapter);
  return c?.rest as R | undefined;
}
