import type { AccountRef } from '../../domain/review.js';
import { lower, ReviewInputError } from './common.js';

/**
 * Review exceptions: exact emails or globs (`*` any run, `?` one character) whose findings are suppressed
 * and listed. Matched without building a regular expression from user input, so no pattern can be made to
 * backtrack exponentially.
 */

const MAX_EXCEPTIONS = 1000;
const MAX_PATTERN_LENGTH = 320;

export interface ExceptionMatcher {
  /** The exception (as given) that matches `email`, or null. */
  match(email: string | null): string | null;
}

/** Glob match with `*` and `?`, iterative with one backtrack point: O(|text|·|pattern|) at worst, never exponential. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p += 1;
      t += 1;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p;
      mark = t;
      p += 1;
    } else if (star >= 0) {
      p = star + 1;
      mark += 1;
      t = mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p += 1;
  return p === pattern.length;
}

export function compileExceptions(exceptions: readonly string[] | undefined): ExceptionMatcher {
  const list = exceptions ?? [];
  if (list.length > MAX_EXCEPTIONS) throw new ReviewInputError(`at most ${MAX_EXCEPTIONS} exceptions are accepted, got ${list.length}`);
  const exact = new Map<string, string>();
  const globs: { pattern: string; original: string }[] = [];
  list.forEach((raw, i) => {
    if (typeof raw !== 'string') throw new ReviewInputError(`exception ${i + 1} is not a string`);
    const trimmed = raw.trim();
    if (trimmed === '') return;
    if (trimmed.length > MAX_PATTERN_LENGTH) throw new ReviewInputError(`exception ${i + 1} is longer than ${MAX_PATTERN_LENGTH} characters`);
    const norm = trimmed.toLowerCase().replace(/\*{2,}/g, '*');
    if (/[*?]/.test(norm)) globs.push({ pattern: norm, original: trimmed });
    else if (!exact.has(norm)) exact.set(norm, trimmed);
  });
  // One email can be in several findings (and in several vendors): its glob verdict is worked out once.
  const cache = new Map<string, string | null>();
  return {
    match(email) {
      const e = lower(email);
      if (e === null) return null;
      const hit = exact.get(e);
      if (hit !== undefined) return hit;
      if (globs.length === 0) return null;
      const cached = cache.get(e);
      if (cached !== undefined) return cached;
      const g = globs.find((x) => globMatch(x.pattern, e));
      const out = g ? g.original : null;
      cache.set(e, out);
      return out;
    },
  };
}

/**
 * The exception each account matched, when every account a finding concerns matches one; null otherwise.
 * A finding about several accounts (a duplicate group) is suppressed only as a whole, and a vendor-level
 * finding (no accounts, e.g. NO_AUTOMATED_OFFBOARDING) is never suppressed by an email exception.
 */
export function suppressingExceptions(accounts: readonly AccountRef[], exceptions: ExceptionMatcher): string[] | null {
  if (accounts.length === 0) return null;
  const matched: string[] = [];
  for (const a of accounts) {
    const m = exceptions.match(a.email);
    if (m === null) return null;
    matched.push(m);
  }
  return matched;
}
