import { chmodSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog, AuditWriteError } from '../../src/audit/audit-log.js';
import { publicErrorText } from '../../src/public-error.js';
import { ACCEPT, startStack, textOf, unlockedOutreachUsers, type Stack } from '../support/stack.js';

/**
 * Issue 14 item 3: server paths never reach a client unasked. The audit-write failure names the audit log in
 * the server log only; the tool result says what happened without the path.
 */
describe('audit-write failure in a tool result', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack.close());

  it('says the audit log could not be written, and names no server path', async () => {
    const target = unlockedOutreachUsers(stack)[0];
    // A log loosened while the server runs: every append refuses, and its message names the file.
    chmodSync(stack.deps.config.auditLogPath, 0o644);
    try {
      const r = await stack.call('outreach_lock_user', { id: String(target.id) });
      expect(r.isError).toBe(true);
      const text = JSON.stringify(r.content);
      expect(text).toMatch(/audit log is accessible by group or others/);
      expect(text).not.toContain(stack.stateDir);
      expect(text).not.toContain(stack.deps.config.auditLogPath);
      // Nothing was sent: the intent line could not be written first.
      expect(stack.sandbox.outreach.users().find((u) => u.id === target.id)?.locked).toBe(false);
    } finally {
      chmodSync(stack.deps.config.auditLogPath, 0o600);
    }
  });

  it('an offboarding step whose audit line fails reports it without the path', async () => {
    const target = unlockedOutreachUsers(stack)[1];
    const plan = await stack.call('plan_offboarding', { emails: [target.email], vendors: ['outreach'] });
    const planId = (plan.structuredContent as { plan_id: string }).plan_id;
    chmodSync(stack.deps.config.auditLogPath, 0o644);
    try {
      const r = await stack.call('execute_offboarding', { plan_id: planId });
      const text = textOf(r) + JSON.stringify(r.structuredContent ?? {});
      expect(text).toMatch(/audit log/);
      expect(text).not.toContain(stack.stateDir);
    } finally {
      chmodSync(stack.deps.config.auditLogPath, 0o600);
    }
  });
});

describe('AuditWriteError and publicErrorText', () => {
  it('keeps the path in the message (server log, start-up) and out of the public message', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'sam-audit-'));
    const file = join(dir, 'audit.log');
    writeFileSync(file, '', { mode: 0o644 });
    chmodSync(file, 0o644);
    const err = (await new AuditLog(file).open().catch((e: unknown) => e)) as AuditWriteError;
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(err.message).toContain(file);
    expect(err.publicMessage).not.toContain(dir);
    expect(publicErrorText(err)).toBe(err.publicMessage);
  });

  it('gives a system error by operation and code only, and scrubs configured directories from any other message', () => {
    const sys = Object.assign(new Error("EACCES: permission denied, open '/var/lib/sam/credits/2026.json'"), { code: 'EACCES', syscall: 'open', path: '/var/lib/sam/credits/2026.json' });
    expect(publicErrorText(sys)).toBe('a file or system operation failed (open: EACCES)');
    const plain = new Error('Could not write the credit ledger /var/lib/sam/credits/x.json (EROFS)');
    expect(publicErrorText(plain, { stateDir: '/var/lib/sam' })).toBe('Could not write the credit ledger <server path>/credits/x.json (EROFS)');
    // A whole component only.
    expect(publicErrorText(new Error('/var/lib/samba is fine'), { stateDir: '/var/lib/sam' })).toBe('/var/lib/samba is fine');
    expect(publicErrorText(new Error(`at ${process.cwd()}/src/x.ts:1`))).toBe('at <server path>/src/x.ts:1');
  });
});
