import { ToolInputError } from '../../errors.js';

/**
 * SCIM filter strings built from structured input only (RFC 7644 §3.4.2.2). The agent never supplies a raw
 * filter: it gives values, this module picks the attribute names and operators and quotes the values.
 *
 * A string comparison value is a JSON string (RFC 7644 §3.4.2.2: "compValue = false / null / true / number /
 * string ... string = <JSON string, RFC 7159>"), so `"` and `\` inside it are escaped with a backslash and the
 * value can never close its quotes and smuggle in ` or ...`. Control characters are refused rather than escaped:
 * several servers tokenise filters with regular expressions that do not understand `\n`/`\u0000` escapes, and no
 * userName, externalId or displayName legitimately contains one. The core URL-encodes the whole filter.
 */

/** Longest value accepted in a filter; longer input is a mistake, not a userName. */
export const MAX_FILTER_VALUE = 512;

const CONTROL = /[\u0000-\u001f\u007f]/;
// A lone UTF-16 surrogate cannot be encoded as UTF-8 (URL encoding would turn it into U+FFFD silently).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** `value` as a SCIM filter string literal: quoted, with `\` and `"` escaped. */
export function quoteFilterValue(value: string, field = 'value'): string {
  if (typeof value !== 'string') throw new ToolInputError(`\`${field}\` must be a string.`);
  if (value.length === 0) throw new ToolInputError(`\`${field}\` must not be empty.`);
  if (value.length > MAX_FILTER_VALUE) throw new ToolInputError(`\`${field}\` is longer than ${MAX_FILTER_VALUE} characters.`);
  if (CONTROL.test(value)) throw new ToolInputError(`\`${field}\` contains a control character (line break, tab or similar); remove it and try again.`);
  if (LONE_SURROGATE.test(value)) throw new ToolInputError(`\`${field}\` contains an invalid Unicode character (a lone surrogate).`);
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `attr eq "value"` or `attr eq true|false`; the attribute name comes from this code, never from input. */
export function eq(attribute: string, value: string | boolean, field = attribute): string {
  if (!/^[A-Za-z][\w.$-]*$/.test(attribute)) throw new Error(`invalid SCIM attribute name ${attribute}`);
  return `${attribute} eq ${typeof value === 'boolean' ? String(value) : quoteFilterValue(value, field)}`;
}

export interface UserFilter {
  /** Exact userName (servers compare case-insensitively: RFC 7643 §4.1.1 caseExact false). */
  userName?: string;
  externalId?: string;
  active?: boolean;
}

/** `userName eq "..." and externalId eq "..." and active eq true`, or undefined when no field is set. */
export function userFilter(f: UserFilter = {}): string | undefined {
  const parts: string[] = [];
  if (f.userName !== undefined) parts.push(eq('userName', f.userName, 'user_name'));
  if (f.externalId !== undefined) parts.push(eq('externalId', f.externalId, 'external_id'));
  if (f.active !== undefined) parts.push(eq('active', f.active));
  return parts.length === 0 ? undefined : parts.join(' and ');
}

/** `displayName eq "..."`, or undefined. */
export function groupFilter(f: { displayName?: string } = {}): string | undefined {
  return f.displayName === undefined ? undefined : eq('displayName', f.displayName, 'display_name');
}

/** A PATCH path selecting one member of a group: `members[value eq "<id>"]` (RFC 7644 §3.5.2.2). */
export function memberPath(memberId: string): string {
  return `members[${eq('value', memberId, 'member id')}]`;
}
