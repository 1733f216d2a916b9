import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, startStack, structured, type Stack } from '../support/stack.js';

describe('prompts and resources', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ elicit: ACCEPT });
  });
  afterAll(() => stack.close());

  it('offers the access-review and offboard-user prompts, which name the tools to use', async () => {
    const { prompts } = await stack.client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual(['access-review', 'offboard-user']);
    const off = await stack.client.getPrompt({ name: 'offboard-user', arguments: { email: 'jane.doe@acme.example', transfer_to: 'boss@acme.example' } });
    const text = (off.messages[0].content as { text: string }).text;
    for (const tool of ['find_user', 'plan_offboarding', 'execute_offboarding']) expect(text).toContain(tool);
    expect(text).toContain('boss@acme.example');
    // The call protocol, in a sentence: the approval link to show, and calling again while running.
    expect(text).toMatch(/"approval_required" or "pending", show me its message with the approval link/);
    expect(text).toMatch(/"running", call again/);
    const review = await stack.client.getPrompt({ name: 'access-review', arguments: {} });
    const reviewText = (review.messages[0].content as { text: string }).text;
    expect(reviewText).toContain('access_review');
    expect(reviewText).toMatch(/status "running".*call it again with the same arguments/);
  });

  it('the call protocol is told once in the instructions, in every tool\'s job_id, and in each destructive tool\'s description', async () => {
    expect(stack.client.getInstructions()).toMatch(/Status "running": the work goes on as a job; call the same tool again with the same arguments/);
    expect(stack.client.getInstructions()).toMatch(/Status "approval_required" or "pending": nothing has changed yet/);
    const { tools } = await stack.client.listTools();
    for (const t of tools) {
      const props = t.inputSchema.properties as Record<string, { description?: string }>;
      expect(props.job_id?.description, t.name).toMatch(/"running" answer/);
      expect(/"approval_required"\/"pending" means nothing changed yet/.test(t.description ?? ''), t.name).toBe(t.annotations?.destructiveHint === true);
      // Only SALES_ACCESS_CONFIRM=token reads a token-confirm argument; this stack runs elicit.
      expect(Object.keys(props), t.name).not.toContain('confirm_target');
      if (t.name !== 'scim_delete_user') expect(Object.keys(props), t.name).not.toContain('confirm');
    }
  });

  it('serves the capability matrix with what is connected', async () => {
    const r = await stack.client.readResource({ uri: 'sales-access://capabilities' });
    const matrix = JSON.parse((r.contents[0] as { text: string }).text) as { vendor: string; operations: Record<string, string[]>; rest_connected: boolean }[];
    expect(matrix.map((m) => m.vendor)).toEqual(['outreach', 'salesloft', 'apollo', 'zoominfo']);
    expect(matrix.find((m) => m.vendor === 'apollo')!.operations.deactivate_user).toEqual(['scim', 'ui']);
    expect(matrix.every((m) => typeof m.rest_connected === 'boolean')).toBe(true);
  });

  it('serves the recent audit log entries, newest writes included', async () => {
    const target = stack.sandbox.outreach.users().find((u) => u.active && !u.locked && stack.sandbox.outreach.users().filter((v) => v.email.toLowerCase() === u.email.toLowerCase()).length === 1)!;
    const w = structured(await stack.call('outreach_lock_user', { id: String(target.id) }));
    const r = await stack.client.readResource({ uri: 'sales-access://audit/recent' });
    const lines = JSON.parse((r.contents[0] as { text: string }).text) as { op_id: string; type: string }[];
    expect(lines.filter((l) => l.op_id === w.audit_op_id).map((l) => l.type)).toEqual(['intent', 'outcome']);
  });

  it('refuses evidence names that are not evidence files', async () => {
    await expect(stack.client.readResource({ uri: 'sales-access://evidence/..%2F..%2Faudit.log' })).rejects.toThrow();
    await expect(stack.client.readResource({ uri: 'sales-access://evidence/access-review-nope.csv' })).rejects.toThrow(/No evidence file/);
  });
});
