import type { Clock } from '../../clock.js';
import { FixedWindow } from '../http-util.js';

/*
 * Apollo's rate limits (rate-limits.md, the spec's usage example): per team and per endpoint, fixed windows per
 * minute, hour and day aligned to the clock (scaled by `windowScale`), the nine usage headers on every counted
 * response. Bulk enrichment gets a tenth of each limit.
 */

export interface WindowLimits {
  minute: number;
  hour: number;
  day: number;
}

export const APOLLO_SIM_DEFAULT_LIMITS: WindowLimits = { minute: 200, hour: 600, day: 6000 };

const WINDOW_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type WindowName = keyof typeof WINDOW_MS;
const WINDOWS: WindowName[] = ['minute', 'hour', 'day'];

export class EndpointLimits {
  private readonly counters = new Map<string, Record<WindowName, FixedWindow>>();

  constructor(
    private readonly clock: Clock,
    private readonly base: WindowLimits,
    /** Every window's length is multiplied by this (0.01: the minute lasts 600 ms). */
    readonly scale: number,
    /** Per-endpoint overrides by Apollo name. */
    private readonly overrides: Record<string, Partial<WindowLimits>>,
    /** The endpoints that get a tenth of the limits. */
    private readonly bulk: ReadonlySet<string>,
  ) {}

  limitsOf(name: string): WindowLimits {
    const f = this.bulk.has(name) ? 0.1 : 1;
    const base: WindowLimits = {
      minute: Math.max(1, Math.floor(this.base.minute * f)),
      hour: Math.max(1, Math.floor(this.base.hour * f)),
      day: Math.max(1, Math.floor(this.base.day * f)),
    };
    return { ...base, ...(this.overrides[name] ?? {}) };
  }

  /** Requests counted in the endpoint's current windows. */
  usage(name: string): WindowLimits {
    const c = this.windowsOf(name);
    return { minute: c.minute.used, hour: c.hour.used, day: c.day.used };
  }

  headers(name: string): Record<string, number> {
    const l = this.limitsOf(name);
    const u = this.usage(name);
    return {
      'x-rate-limit-minute': l.minute,
      'x-minute-usage': u.minute,
      'x-minute-requests-left': Math.max(0, l.minute - u.minute),
      'x-rate-limit-hourly': l.hour,
      'x-hourly-usage': u.hour,
      'x-hourly-requests-left': Math.max(0, l.hour - u.hour),
      'x-rate-limit-daily': l.day,
      'x-daily-usage': u.day,
      'x-daily-requests-left': Math.max(0, l.day - u.day),
    };
  }

  /** Counts one request in every window; when one is spent, counts nothing and says which (with its limit). */
  count(name: string): { window: WindowName; limit: number } | undefined {
    const l = this.limitsOf(name);
    const c = this.windowsOf(name);
    for (const w of WINDOWS) if (c[w].used >= l[w]) return { window: w, limit: l[w] };
    for (const w of WINDOWS) c[w].used++;
    return undefined;
  }

  /** An endpoint's windows, moved to the ones the clock is in now (their limits come from limitsOf). */
  private windowsOf(name: string): Record<WindowName, FixedWindow> {
    let c = this.counters.get(name);
    if (!c) {
      const l = this.limitsOf(name);
      const w = (n: WindowName) => new FixedWindow(this.clock, l[n], WINDOW_MS[n] * this.scale);
      c = { minute: w('minute'), hour: w('hour'), day: w('day') };
      this.counters.set(name, c);
    }
    for (const w of WINDOWS) c[w].roll();
    return c;
  }
}
