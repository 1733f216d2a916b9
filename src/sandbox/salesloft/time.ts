/*
 * SalesLoft's timestamps: served with microseconds and the team's New York offset (e.g.
 * "2026-03-04T10:22:10.123456-05:00"), so string comparison is wrong across DST and a client must parse them;
 * compared at microsecond precision (the spec).
 */

export const TEAM_ZONE = 'America/New_York';

const offsetFormat = new Intl.DateTimeFormat('en-US', { timeZone: TEAM_ZONE, timeZoneName: 'longOffset' });
const offsetCache = new Map<number, number>();

/** Minutes east of UTC in New York at `ms` (−300 or −240). */
function zoneOffsetMinutes(ms: number): number {
  const hour = Math.floor(ms / 3_600_000);
  let v = offsetCache.get(hour);
  if (v === undefined) {
    const name = offsetFormat.formatToParts(new Date(hour * 3_600_000)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
    v = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
    offsetCache.set(hour, v);
  }
  return v;
}

/** Microseconds since the epoch → "YYYY-MM-DDTHH:MM:SS.ffffff±hh:mm" in the team's zone. */
export function renderMicros(us: number): string {
  const secMs = Math.floor(us / 1_000_000) * 1000;
  const frac = String(us - secMs * 1000).padStart(6, '0');
  const off = zoneOffsetMinutes(secMs);
  const local = new Date(secMs + off * 60_000).toISOString().slice(0, 19);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${local}.${frac}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 (date, or date-time with optional fraction and offset; UTC when none) → microseconds. */
export function parseTimestampMicros(raw: string): number | undefined {
  const m = ISO_RE.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac, zone] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (Number.isNaN(ms) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  let off = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    off = (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return (ms - off * 60_000) * 1000 + (frac ? Number(frac.padEnd(6, '0').slice(0, 6)) : 0);
}
