import { ToolInputError } from '../../errors.js';

/** Small helpers shared by the merge, the rules and the engine of the access review. */

export class ReviewInputError extends ToolInputError {
  override readonly name: string = 'ReviewInputError';
}

export const DAY_MS = 86_400_000;

/** Trimmed, lower-cased email; null when absent or empty. Every join of the review compares these. */
export function lower(email: string | null | undefined): string | null {
  if (typeof email !== 'string') return null;
  const e = email.trim().toLowerCase();
  return e === '' ? null : e;
}

/** The mailbox an address delivers to: `jane+crm@x` → `jane@x`. */
export function identityKey(emailLower: string): string {
  const at = emailLower.lastIndexOf('@');
  if (at <= 0) return emailLower;
  const local = emailLower.slice(0, at);
  const plus = local.indexOf('+');
  return plus > 0 ? `${local.slice(0, plus)}${emailLower.slice(at)}` : emailLower;
}

/** Milliseconds of an ISO time; null when absent or unreadable (the rules then count it as undetermined). */
export function parseTime(s: string | null | undefined): number | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

/** Code-unit order, not locale order, so the output is the same on every machine. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}
