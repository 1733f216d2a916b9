import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_ROSTER_BYTES,
  MAX_ROSTER_ROWS,
  RosterError,
  isTerminated,
  loadRosterFile,
  parseRosterCsv,
  resolveRosterPath,
  rosterFromEmails,
} from '../../src/workflows/roster.js';

const NOW = new Date('2026-11-02T09:00:00Z');
const SECRET = 'ZQX-SECRET-CELL-7f3a';

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('parseRosterCsv', () => {
  it('reads emails lower-cased with normalised statuses', () => {
    const csv = [
      'Name,Email,Status',
      'Dana Lee,Dana.Lee@Acme.example,Active',
      'Wei Chen,wei.chen@acme.example,Leaver',
      'Alex Kim,alex.kim@acme.example,inactive',
      'Jo Park,jo.park@acme.example,left',
      'Sam Roe,sam.roe@acme.example,TERMINATED',
      'Ana Diaz,ana.diaz@acme.example,',
    ].join('\n');
    const { entries, warnings, rows } = parseRosterCsv(csv, { now: NOW });
    expect(rows).toBe(6);
    expect(entries).toEqual([
      { email: 'dana.lee@acme.example', status: 'active', terminated_on: null },
      { email: 'wei.chen@acme.example', status: 'terminated', terminated_on: null },
      { email: 'alex.kim@acme.example', status: 'terminated', terminated_on: null },
      { email: 'jo.park@acme.example', status: 'terminated', terminated_on: null },
      { email: 'sam.roe@acme.example', status: 'terminated', terminated_on: null },
      { email: 'ana.diaz@acme.example', status: 'unknown', terminated_on: null },
    ]);
    expect(warnings.join('\n')).toMatch(/1 row has an empty or unrecognised status/);
  });

  it('finds header variants case-insensitively, tolerates a BOM, CRLF and quoted commas', () => {
    const csv = '\uFEFF"Full Name",E-Mail,Employment_Status,End_Date\r\n"Lee, Dana",dana@acme.example,active,\r\n"O\'Brien, ""Pat""",pat@acme.example,active,2026-01-15\r\n';
    const { entries, warnings } = parseRosterCsv(csv, { now: NOW });
    expect(entries).toEqual([
      { email: 'dana@acme.example', status: 'active', terminated_on: null },
      { email: 'pat@acme.example', status: 'terminated', terminated_on: '2026-01-15' },
    ]);
    expect(warnings).toEqual([]);
    for (const header of ['Work Email', 'MAIL', 'email', 'e_mail']) {
      expect(parseRosterCsv(`${header}\nx@acme.example\n`).entries).toEqual([{ email: 'x@acme.example', status: 'active', terminated_on: null }]);
    }
  });

  it('prefers a work email column over a generic one', () => {
    const { entries } = parseRosterCsv('email,work_email\npersonal@home.example,work@acme.example\n');
    expect(entries.map((e) => e.email)).toEqual(['work@acme.example']);
  });

  it('judges termination dates against the review date: past or today terminated, future still employed', () => {
    const csv = ['email,status,termination_date', 'a@acme.example,active,2026-10-01', 'b@acme.example,terminated,2026-12-31', 'c@acme.example,,2026-11-02', 'd@acme.example,,2026-11-02T17:00:00Z'].join('\n');
    const { entries } = parseRosterCsv(csv, { now: NOW });
    expect(entries.map((e) => [e.email, e.status, e.terminated_on])).toEqual([
      ['a@acme.example', 'terminated', '2026-10-01'],
      ['b@acme.example', 'active', '2026-12-31'],
      ['c@acme.example', 'terminated', '2026-11-02'],
      ['d@acme.example', 'terminated', '2026-11-02'],
    ]);
    expect(isTerminated(entries[1], new Date('2027-01-05T00:00:00Z'))).toBe(true);
    expect(isTerminated(entries[1], NOW)).toBe(false);
  });

  it('skips rows with an invalid or empty email, naming the line but never the cell', () => {
    const csv = ['name,email,status,terminated_on', `Ok,ok@acme.example,active,`, `Bad,${SECRET},active,`, `Empty,,active,`, `Quoted,"${SECRET}@",active,`, `Date,date@acme.example,active,${SECRET}`].join('\n');
    const { entries, warnings } = parseRosterCsv(csv, { now: NOW });
    expect(entries.map((e) => e.email)).toEqual(['ok@acme.example', 'date@acme.example']);
    expect(warnings).toContain('line 3: email is not a valid address; row skipped');
    expect(warnings).toContain('line 4: email is empty; row skipped');
    expect(warnings).toContain('line 5: email is not a valid address; row skipped');
    expect(warnings).toContain('line 6: termination date is not a date in YYYY-MM-DD form; ignored');
    expect(warnings.join('\n')).not.toContain(SECRET);
  });

  it('merges duplicate emails case-insensitively, a terminated row winning', () => {
    const csv = ['email,status', 'Jane@acme.example,active', 'jane@ACME.example,terminated', 'bob@acme.example,active', 'BOB@acme.example,active'].join('\n');
    const { entries, warnings } = parseRosterCsv(csv, { now: NOW });
    expect(entries).toEqual([
      { email: 'jane@acme.example', status: 'terminated', terminated_on: null },
      { email: 'bob@acme.example', status: 'active', terminated_on: null },
    ]);
    expect(warnings).toContain('lines 2, 3 give the same email different statuses; merged as terminated');
    expect(warnings).toContain('2 duplicate rows (same email, any case) merged');
  });

  it('refuses a file without an email column, without quoting the header', () => {
    const err = errorOf(() => parseRosterCsv(`name,${SECRET}\nDana,dana@acme.example\n`));
    expect(err).toBeInstanceOf(RosterError);
    expect(err.message).toMatch(/no email column/);
    expect(err.message).toMatch(/"email", "e-mail", "work email" or "mail"/);
    expect(err.message).not.toContain(SECRET);
    expect(errorOf(() => parseRosterCsv('')).message).toMatch(/empty/);
  });

  it('reports malformed CSV by line and code, never with the offending characters', () => {
    const err = errorOf(() => parseRosterCsv(`email\nok@acme.example\n"${SECRET}\n`));
    expect(err).toBeInstanceOf(RosterError);
    expect(err.message).toMatch(/malformed at line \d+ \(CSV_/);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('7f3a');
  });

  it('refuses files over the byte or row limit', () => {
    expect(MAX_ROSTER_BYTES).toBe(20 * 1024 * 1024);
    expect(MAX_ROSTER_ROWS).toBe(200_000);
    const big = Buffer.alloc(MAX_ROSTER_BYTES + 1, 'a');
    const err = errorOf(() => parseRosterCsv(big));
    expect(err).toBeInstanceOf(RosterError);
    expect(err.message).toMatch(/over the limit of 20971520 bytes/);

    const rows = ['email', ...Array.from({ length: 6 }, (_, i) => `p${i}@acme.example`)].join('\n');
    expect(errorOf(() => parseRosterCsv(rows, { maxRows: 5 })).message).toMatch(/more than 5 rows/);
    expect(parseRosterCsv(rows, { maxRows: 6 }).entries).toHaveLength(6);
    expect(errorOf(() => parseRosterCsv(rows, { maxBytes: 20 })).message).toMatch(/over the limit of 20 bytes/);
  });
});

describe('rosterFromEmails', () => {
  it('lower-cases, de-duplicates and reports invalid items by position only', () => {
    const { entries, warnings } = rosterFromEmails(['Dana@Acme.example', 'dana@acme.example', SECRET, ' wei@acme.example ']);
    expect(entries).toEqual([
      { email: 'dana@acme.example', status: 'active', terminated_on: null },
      { email: 'wei@acme.example', status: 'active', terminated_on: null },
    ]);
    expect(warnings).toEqual(['roster item 3 is not a valid email; skipped', '1 duplicate email (any case) merged']);
    expect(() => rosterFromEmails(['a@b.example', 'c@d.example'], { maxRows: 1 })).toThrow(RosterError);
  });
});

describe('resolveRosterPath', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'sam-roster-')));
  const dir = join(base, 'rosters');
  mkdirSync(dir);
  writeFileSync(join(dir, 'hr.csv'), 'email,status\ndana@acme.example,active\n');
  const outside = join(base, 'outside.csv');
  writeFileSync(outside, `email\n${SECRET}@acme.example\n`);
  symlinkSync(outside, join(dir, 'escape.csv'));
  symlinkSync(join(dir, 'hr.csv'), join(dir, 'alias.csv'));
  symlinkSync(dir, join(base, 'rosters-link'));

  it('accepts a file inside the directory, by absolute or relative path, and a symlink that stays inside', async () => {
    expect(await resolveRosterPath(join(dir, 'hr.csv'), dir)).toBe(join(dir, 'hr.csv'));
    expect(await resolveRosterPath('hr.csv', dir)).toBe(join(dir, 'hr.csv'));
    expect(await resolveRosterPath('alias.csv', dir)).toBe(join(dir, 'hr.csv'));
    // The roster directory itself may be a symlink: both sides are resolved.
    expect(await resolveRosterPath(join(base, 'rosters-link', 'hr.csv'), join(base, 'rosters-link'))).toBe(join(dir, 'hr.csv'));
  });

  it('refuses a symlink pointing outside, and ../ escapes, without leaking the target or its content', async () => {
    for (const p of ['escape.csv', join(dir, 'escape.csv'), '../outside.csv', outside, dir]) {
      const err = await rejectionOf(resolveRosterPath(p, dir));
      expect(err).toBeInstanceOf(RosterError);
      expect(err.message).toMatch(/is not a file inside SALES_ACCESS_ROSTER_DIR/);
      expect(err.message).not.toContain(SECRET);
      if (p === 'escape.csv') expect(err.message).not.toContain('outside.csv');
    }
  });

  it('answers alike for a missing file and an existing one outside the directory, so no caller can probe what exists', async () => {
    const answer = async (p: string) => (await rejectionOf(resolveRosterPath(p, dir))).message.replace(JSON.stringify(p), '<path>');
    const existingOutside = await answer(outside);
    expect(await answer(join(base, 'no-such-file.csv'))).toBe(existingOutside);
    expect(await answer('../no-such-file.csv')).toBe(await answer('../outside.csv'));
    expect(await answer('/etc/hostname')).toBe(await answer('/etc/no-such-file'));
    // Through a symlink inside the directory that leads out: the same again.
    symlinkSync(base, join(dir, 'up'));
    expect(await answer('up/outside.csv')).toBe(await answer('up/no-such-file.csv'));
    expect(await answer('missing.csv')).toBe(existingOutside);
  });

  it('needs SALES_ACCESS_ROSTER_DIR, an existing directory and an existing file', async () => {
    expect((await rejectionOf(resolveRosterPath('hr.csv', undefined))).message).toMatch(/SALES_ACCESS_ROSTER_DIR/);
    expect((await rejectionOf(resolveRosterPath('hr.csv', ''))).message).toMatch(/SALES_ACCESS_ROSTER_DIR/);
    expect((await rejectionOf(resolveRosterPath('hr.csv', join(base, 'nope')))).message).toMatch(/SALES_ACCESS_ROSTER_DIR does not name an existing directory/);
    expect((await rejectionOf(resolveRosterPath('missing.csv', dir))).message).toMatch(/is not a file inside SALES_ACCESS_ROSTER_DIR/);
    expect((await rejectionOf(resolveRosterPath('a\0b', dir))).message).toMatch(/non-empty file path/);
  });

  it('loadRosterFile resolves, checks the size and parses', async () => {
    const r = await loadRosterFile('alias.csv', dir, { now: NOW });
    expect(r.entries).toEqual([{ email: 'dana@acme.example', status: 'active', terminated_on: null }]);
    expect((await rejectionOf(loadRosterFile('hr.csv', dir, { maxBytes: 10 }))).message).toMatch(/over the limit of 10 bytes/);
    const err = await rejectionOf(loadRosterFile('escape.csv', dir));
    expect(err.message).not.toContain(SECRET);
  });
});
