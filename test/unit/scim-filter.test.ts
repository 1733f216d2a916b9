import { describe, expect, it } from 'vitest';
import { ToolInputError } from '../../src/errors.js';
import { eq, groupFilter, memberPath, quoteFilterValue, userFilter } from '../../src/vendors/scim/filter.js';

/** What a JSON parser reads back from the quoted literal: the filter value must round-trip exactly. */
const unquote = (literal: string) => JSON.parse(literal) as string;

describe('SCIM filter building (RFC 7644 §3.4.2.2)', () => {
  it('joins structured fields with " and " in a fixed order, booleans unquoted', () => {
    expect(userFilter({ userName: 'jane@acme.example', externalId: '00u1', active: true })).toBe('userName eq "jane@acme.example" and externalId eq "00u1" and active eq true');
    expect(userFilter({ active: false })).toBe('active eq false');
    expect(userFilter({})).toBeUndefined();
    expect(groupFilter({ displayName: 'Sales EMEA' })).toBe('displayName eq "Sales EMEA"');
    expect(groupFilter()).toBeUndefined();
  });

  it.each([
    ['a quote', 'jane"doe@acme.example', '"jane\\"doe@acme.example"'],
    ['a backslash', 'ACME\\jane', '"ACME\\\\jane"'],
    ['a backslash before a quote', 'x\\"', '"x\\\\\\""'],
    ['an injected or-clause', 'x" or userName pr or userName eq "y', '"x\\" or userName pr or userName eq \\"y"'],
    ['" or " inside the value', 'a or b', '"a or b"'],
    ['unicode', 'zoë.łukasz@acme.example 🚀', '"zoë.łukasz@acme.example 🚀"'],
    ['parentheses and brackets', 'a)(b[c]', '"a)(b[c]"'],
  ])('escapes %s so the value cannot leave its quotes', (_what, value, literal) => {
    const q = quoteFilterValue(value);
    expect(q).toBe(literal);
    expect(unquote(q)).toBe(value);
    // Exactly two unescaped quotes: the ones this code added.
    expect(q.replace(/\\./g, '').split('"').length - 1).toBe(2);
  });

  it.each([
    ['a newline', 'jane\n@acme.example'],
    ['a tab', 'jane\t@acme.example'],
    ['NUL', 'jane\u0000'],
    ['DEL', 'jane\u007f'],
    ['a lone surrogate', 'jane\ud800'],
    ['the empty string', ''],
    ['a value over 512 characters', 'x'.repeat(513)],
  ])('refuses %s with a ToolInputError naming the field', (_what, value) => {
    expect(() => userFilter({ userName: value })).toThrow(ToolInputError);
    expect(() => userFilter({ userName: value })).toThrow(/user_name/);
  });

  it('a member remove path quotes and escapes the id', () => {
    expect(memberPath('abc-1')).toBe('members[value eq "abc-1"]');
    expect(memberPath('a"]b')).toBe('members[value eq "a\\"]b"]');
  });

  it('attribute names come from code only', () => {
    expect(() => eq('userName or 1', 'x')).toThrow();
  });
});
