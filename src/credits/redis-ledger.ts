import { createHash } from 'node:crypto';
import type { VendorId } from '../domain/account.js';
import type { SharedRedis } from '../shared/redis.js';
import { holderLabel } from '../shared/redis-lock.js';
import type { LedgerFile, LedgerStorage, ReservationRecord } from './ledger.js';

/*
 * The credit ledger's month records in Redis, for replicas: one budget per vendor per month, whichever replica
 * spends it. Keys under the prefix: credits:<vendor>:<month> (the record as JSON, as the file backend writes
 * it: counts, tool names, times, a process id and host label; no credential), kept 400 days; and
 * credits-run:<ledger run id> (the replica's label), which the replica renews every RUN_TTL_MS / 3 while it
 * holds reservations. A reservation whose run key is gone (its replica stopped) counts as spent.
 *
 * A write replaces the record only if it is still the one read (compared by SHA-1 in one Lua step); otherwise
 * the ledger reads again and decides again. No WATCH: the process shares one connection between calls, and a
 * WATCH belongs to the connection.
 */

const KEEP_MS = 400 * 86_400_000;
/** A replica's reservations outlive it by at most this much before they count as spent. */
export const LEDGER_RUN_TTL_MS = 60_000;

const WRITE_LUA = `
local cur = redis.call('get', KEYS[1])
if (cur == false and ARGV[1] ~= '') or (cur ~= false and redis.sha1hex(cur) ~= ARGV[1]) then return 0 end
redis.call('set', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

export class RedisLedgerStorage implements LedgerStorage {
  private readonly runs = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly holder: string;

  constructor(
    private readonly redis: SharedRedis,
    private readonly opts: { replicaId?: string; runTtlMs?: number } = {},
  ) {
    this.holder = holderLabel(opts.replicaId);
  }

  where(vendor: VendorId, month: string): string {
    return this.redis.key('credits', vendor, month);
  }

  async read(vendor: VendorId, month: string): Promise<{ text: string | undefined; version: string }> {
    const text = await this.redis.run(`reading the ${vendor} credit ledger`, (c) => c.get(this.where(vendor, month)));
    return text === null ? { text: undefined, version: '' } : { text, version: createHash('sha1').update(text).digest('hex') };
  }

  async write(data: LedgerFile, text: string, version: string): Promise<boolean> {
    const ok = await this.redis.run(`writing the ${data.vendor} credit ledger`, (c) => c.eval(WRITE_LUA, 1, this.where(data.vendor, data.month), version, text, String(KEEP_MS)));
    return ok === 1;
  }

  async ownerGone(r: ReservationRecord): Promise<boolean> {
    return (await this.redis.run('reading the credit ledger', (c) => c.exists(this.redis.key('credits-run', r.run)))) === 0;
  }

  async hold(run: string): Promise<void> {
    if (this.runs.has(run)) return;
    await this.redis.run('writing the credit ledger', (c) => c.set(this.redis.key('credits-run', run), this.holder, 'PX', this.ttl()));
    this.runs.add(run);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), Math.floor(this.ttl() / 3));
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.runs.clear();
  }

  private ttl(): number {
    return this.opts.runTtlMs ?? LEDGER_RUN_TTL_MS;
  }

  private async renew(): Promise<void> {
    const m = this.redis.client.multi();
    for (const run of this.runs) m.set(this.redis.key('credits-run', run), this.holder, 'PX', this.ttl());
    // Redis unreachable: the calls meet it themselves; the run key lasts its TTL meanwhile.
    await m.exec().catch(() => undefined);
  }
}
