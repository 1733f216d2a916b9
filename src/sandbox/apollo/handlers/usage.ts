import type { ApolloCall } from '../http.js';

/**
 * View API Usage Stats reports the real counts of the current windows, with `left_over` = limit - consumed (the
 * spec's example shows left_over equal to the limit beside a non-zero consumed; we do not copy that). Credit
 * usage reports the lead-credit counter of the billing cycle (the calendar month).
 */

function counter(limit: number, consumed: number) {
  return { limit, consumed, left_over: Math.max(0, limit - consumed) };
}

export function apiUsageStats(c: ApolloCall) {
  const { limits, endpoints } = c.env;
  const out: Record<string, unknown> = {};
  for (const ep of endpoints) {
    const l = limits.limitsOf(ep.name);
    const u = limits.usage(ep.name);
    const cut = ep.name.lastIndexOf('/');
    // Keys are JSON arrays as strings, spaced as in the spec: ["api/v1/contacts", "search"].
    const key = `["${ep.name.slice(0, cut)}", "${ep.name.slice(cut + 1)}"]`;
    out[key] = { day: counter(l.day, u.day), hour: counter(l.hour, u.hour), minute: counter(l.minute, u.minute) };
  }
  return out;
}

export function creditUsageStats(c: ApolloCall) {
  const { store, clock } = c.env;
  const d = new Date(clock.now());
  const start = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const end = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return {
    credit_usage_stats: {
      lead_credit: counter(store.leadLimit, store.credits.initial + store.credits.api),
      direct_dial_credit: counter(1000, store.credits.directDial * 8),
      export_credit: counter(5000, 0),
      conversation_credit: counter(500, 0),
      ai_credit: counter(2000, 0),
      power_up_credit: counter(1000, 0),
      inbound_website_visitor_credit: counter(0, 0),
      contact_website_visitor_credit: counter(0, 0),
      web_search_record_credit: counter(0, 0),
      dialer: counter(500, 0),
    },
    current_credit_cycle: { start_date: new Date(start).toISOString(), end_date: new Date(end).toISOString() },
  };
}
