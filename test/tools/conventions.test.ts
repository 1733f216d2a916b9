import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOOLS } from '../../tools/index.js';
import { appOnly, DEFAULT_TOOLS_LIST_BUDGET_BYTES, modelVisibleBytes } from '../../bench/tools-list-size.js';
import { isDefaultTool } from '../../src/server.js';
import { callEnvelopeShape, callInputShape } from '../../tools/types.js';
import { startStack, type Stack } from '../support/stack.js';

/** tools/list with --toolsets all, whole; and the default set's tool names (their schemas are in the first). */
const SNAPSHOT = fileURLToPath(new URL('../fixtures/tools-list.json', import.meta.url));
const DEFAULT_SNAPSHOT = fileURLToPath(new URL('../fixtures/tools-list-default.json', import.meta.url));

function matchSnapshot(file: string, current: string): void {
  if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(file)) {
    if (process.env.CI) throw new Error('tools/list snapshot missing in CI: run UPDATE_SNAPSHOTS=1 npm test and commit it');
    writeFileSync(file, current);
  }
  expect(current).toBe(readFileSync(file, 'utf8'));
}
const HINTS = ['readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint'] as const;

/** Every property of an object schema, recursively, with its path, so a missing .describe() is found anywhere. */
function undescribed(schema: z.ZodType, path: string): string[] {
  const out: string[] = [];
  const def = (schema as any)._zod.def;
  if (def.type === 'optional' || def.type === 'default' || def.type === 'nullable') return undescribed(def.innerType, path);
  if (def.type === 'array') return undescribed(def.element, `${path}[]`);
  if (def.type === 'object') {
    for (const [k, v] of Object.entries(def.shape as Record<string, z.ZodType>)) {
      if (!v.description) out.push(`${path}.${k}`);
      out.push(...undescribed(v, `${path}.${k}`));
    }
  }
  return out;
}

describe('tool conventions', () => {
  it.each(ALL_TOOLS.map((t) => [t.name, t]))('%s sets title, description, all four hints and described schemas', (_name, tool) => {
    expect(tool.name).toMatch(/^[a-z]+(_[a-z]+)+$/);
    expect(tool.title.length).toBeGreaterThan(5);
    expect(tool.description.length).toBeGreaterThan(120);
    for (const h of HINTS) expect(typeof tool.annotations[h], `${tool.name}.${h}`).toBe('boolean');
    expect(Object.keys(tool.outputSchema).length).toBeGreaterThan(0);
    expect(undescribed(z.object(tool.inputSchema), 'input')).toEqual([]);
    expect(undescribed(z.object(tool.outputSchema), 'output')).toEqual([]);
    // A read-only tool cannot be destructive; a destructive one must say so in its description.
    if (tool.annotations.readOnlyHint) expect(tool.annotations.destructiveHint).toBe(false);
  });

  it('the call protocol every tool gets (status, approval, job, next; job_id, approval_id) is described too', () => {
    expect(undescribed(z.object(callEnvelopeShape), 'envelope')).toEqual([]);
    for (const tool of ALL_TOOLS) {
      const shape = callInputShape(tool, ['outreach', 'salesloft', 'apollo', 'zoominfo']);
      expect(undescribed(z.object(shape), `${tool.name} input`)).toEqual([]);
      expect('approval_id' in shape, tool.name).toBe(tool.annotations.destructiveHint);
      expect('job_id' in shape, tool.name).toBe(true);
    }
  });

  it('tool names are unique', () => {
    expect(new Set(ALL_TOOLS.map((t) => t.name)).size).toBe(ALL_TOOLS.length);
  });
});

describe('tools/list through an MCP client (--toolsets all)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('shows every tool with all four annotations and an object outputSchema', async () => {
    const { tools } = await stack.client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
    for (const t of tools) {
      for (const h of HINTS) expect(typeof t.annotations?.[h], `${t.name}.${h}`).toBe('boolean');
      expect(t.outputSchema?.type).toBe('object');
      // Every result says where the call stands; the tool's own fields are there when it is `done`.
      expect(t.outputSchema?.required).toEqual(['status']);
      expect(t.title).toBeTruthy();
    }
  });

  it('matches the committed snapshot (UPDATE_SNAPSHOTS=1 rewrites it)', async () => {
    const { tools } = await stack.client.listTools();
    matchSnapshot(SNAPSHOT, JSON.stringify(tools, null, 2) + '\n');
  });
});

describe('the default tools/list through an MCP client (sandbox: every vendor configured)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ toolsets: null });
  });
  afterAll(() => stack.close());

  it('is the workflows and the user-lifecycle tools, and matches the committed snapshot', async () => {
    const { tools } = await stack.client.listTools();
    const names = tools.map((t) => t.name);
    expect(names).toEqual(ALL_TOOLS.filter(isDefaultTool).map((t) => t.name));
    matchSnapshot(DEFAULT_SNAPSHOT, JSON.stringify(names, null, 2) + '\n');
  });

  it(`costs a model at most ${DEFAULT_TOOLS_LIST_BUDGET_BYTES} bytes (names, descriptions, input schemas)`, async () => {
    const { tools } = await stack.client.listTools();
    expect(modelVisibleBytes(tools)).toBeLessThanOrEqual(DEFAULT_TOOLS_LIST_BUDGET_BYTES);
  });
});

describe('tools/list for a client that declares MCP Apps (io.modelcontextprotocol/ui)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ toolsets: null, capabilities: { extensions: { 'io.modelcontextprotocol/ui': { mimeTypes: ['text/html;profile=mcp-app'] } } } });
  });
  afterAll(() => stack.close());

  it('adds only app-only tools, which the model never sees, so the model-visible bytes are the same', async () => {
    const { tools } = await stack.client.listTools();
    const plain = await stack.connect('plain-client');
    const plainTools = (await plain.listTools()).tools;
    const added = tools.filter((t) => !plainTools.some((p) => p.name === t.name));
    expect(added.length).toBeGreaterThan(0);
    for (const t of added) expect(appOnly(t), t.name).toBe(true);
    for (const t of plainTools) expect(appOnly(t), t.name).toBe(false);
    expect(modelVisibleBytes(tools)).toBe(modelVisibleBytes(plainTools));
    expect(modelVisibleBytes(tools)).toBeLessThanOrEqual(DEFAULT_TOOLS_LIST_BUDGET_BYTES);
  });
});
