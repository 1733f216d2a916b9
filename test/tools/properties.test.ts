import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { homedir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_TOOLS } from '../../tools/index.js';
import { DECLINE, startStack, type Stack } from '../support/stack.js';

/**
 * Issue 14 item 5: property-based tests over every tool's input schema, through a real MCP client on the
 * sandbox. For any arguments (mostly well-typed, some not, some with real sandbox ids and emails so the
 * handlers get past validation), every call answers with a result: no crash, no stack trace or server path
 * in it, and every rejection names the field (or echoes the value) it is about.
 *
 * Nothing is changed that matters: destructive tools meet a client that declines every confirmation;
 * credit-spending tools meet a budget of 0. Non-destructive writes (create a contact, provision a user)
 * may add records to this test's own sandbox. The simulators run small and with high limits, so the
 * 200 runs per tool stay fast.
 */

const RUNS = 200;
// The seed is random per run (FC_SEED=<n> replays one); a failure prints the seed and the shrunk arguments.

// JSON Schema as the SDK lists it (draft-07 subset produced by zod).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Schema = any;

/** Values from the sandbox, so generated ids and emails sometimes name real accounts. */
interface Hints {
  emails: string[];
  ids: string[];
}

const anyJson = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double({ noNaN: false }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
);

/** An arbitrary for one schema: a well-typed value most of the time, anything now and then. */
function arb(schema: Schema, hints: Hints, name: string, depth = 0): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 5, arbitrary: typed(schema, hints, name, depth) }, { weight: 1, arbitrary: anyJson });
}

function typed(s: Schema, hints: Hints, name: string, depth: number): fc.Arbitrary<unknown> {
  if (!s || typeof s !== 'object') return anyJson;
  if (s.const !== undefined) return fc.constant(s.const);
  if (Array.isArray(s.enum)) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (Array.isArray(alts)) return fc.oneof(...alts.map((a: Schema) => typed(a, hints, name, depth)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return stringArb(s, hints, name);
    case 'integer': {
      const min = typeof s.minimum === 'number' ? s.minimum : -1000;
      const max = typeof s.maximum === 'number' ? s.maximum : 100_000;
      return fc.oneof(fc.integer({ min, max: Math.min(max, min + 1000) }), fc.constantFrom(min, max), fc.integer({ min: min - 3, max: max + 3 }));
    }
    case 'number':
      return fc.double({ min: typeof s.minimum === 'number' ? s.minimum : -1e6, max: typeof s.maximum === 'number' ? s.maximum : 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'array': {
      if (depth > 3) return fc.constant([]);
      // Small arrays keep the calls cheap: a 500-email plan is the unit tests' business.
      const maxLength = Math.min(typeof s.maxItems === 'number' ? s.maxItems : 3, 3);
      const minLength = Math.min(typeof s.minItems === 'number' ? s.minItems : 0, maxLength);
      return fc.array(typed(s.items ?? {}, hints, name, depth + 1), { minLength, maxLength });
    }
    case 'object':
      return objectArb(s, hints, depth + 1, false);
    default:
      return anyJson;
  }
}

function stringArb(s: Schema, hints: Hints, name: string): fc.Arbitrary<string> {
  const maxLength = Math.min(typeof s.maxLength === 'number' ? s.maxLength : 40, 40);
  const minLength = Math.min(typeof s.minLength === 'number' ? s.minLength : 0, maxLength);
  const plain = fc.string({ minLength, maxLength });
  const options: fc.Arbitrary<string>[] = [plain];
  if (s.format === 'email' || /email|user_name|person|transfer_to|roster$/.test(name)) options.push(fc.constantFrom(...hints.emails), fc.emailAddress());
  if (s.format === 'date-time') options.push(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString()));
  if (s.format === 'uri' || /url|website/.test(name)) options.push(fc.webUrl());
  if (/(^|_)id$/.test(name)) options.push(fc.constantFrom(...hints.ids));
  if (typeof s.pattern === 'string') {
    try {
      options.push(fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length <= Math.max(maxLength, 64)));
    } catch {
      // a pattern JavaScript cannot read: plain strings only
    }
  }
  return fc.oneof(...options);
}

/** An object: required keys present (strict) or any subset (loose), now and then an unknown key. */
function objectArb(s: Schema, hints: Hints, depth: number, top: boolean): fc.Arbitrary<Record<string, unknown>> {
  const props: Record<string, Schema> = s.properties ?? {};
  const model = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, arb(v, hints, k, depth)]));
  const required: string[] = Array.isArray(s.required) ? s.required : [];
  const strict = fc.record(model, { requiredKeys: required.filter((k) => k in model) });
  const loose = fc.record(model, { requiredKeys: [] });
  const base = fc.oneof({ weight: 3, arbitrary: strict }, { weight: 1, arbitrary: loose });
  if (!top) return base;
  return fc.tuple(base, fc.option(fc.tuple(fc.string({ minLength: 1, maxLength: 8 }), anyJson), { freq: 8 })).map(([o, extra]) => (extra ? { ...o, [extra[0]]: extra[1] } : o));
}

function textsOf(r: CallToolResult): string {
  // Resource links are left out: over stdio, the note on a cut-off result names the stored file on purpose.
  return r.content.map((c) => (c.type === 'text' ? c.text : '')).join('\n');
}

/** Every property name of a schema, nested ones included (`people[].email` names `email`). */
function propertyNames(s: Schema, out = new Set<string>(), depth = 0): Set<string> {
  if (!s || typeof s !== 'object' || depth > 5) return out;
  for (const [k, v] of Object.entries<Schema>(s.properties ?? {})) {
    out.add(k);
    propertyNames(v, out, depth + 1);
  }
  if (s.items) propertyNames(s.items, out, depth + 1);
  for (const alt of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) propertyNames(alt, out, depth + 1);
  return out;
}

/** What a rejection may name: an argument (by its name, or by echoing its value). */
function mentions(tool: Tool, args: Record<string, unknown>): string[] {
  const names = propertyNames(tool.inputSchema);
  for (const k of Object.keys(args)) names.add(k);
  const values: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string' && v.length > 0) {
      // Echoed as is, quoted, or JSON-escaped; a one-character value counts only quoted ("a" is in any text).
      values.push(JSON.stringify(v), `"${v}"`);
      if (v.trim().length >= 2) values.push(v.trim().slice(0, 40));
    }
    else if (typeof v === 'number' && Number.isFinite(v)) values.push(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  Object.values(args).forEach(walk);
  return [...names, ...values];
}

/**
 * A refusal that is about the server's configuration rather than an argument names the setting instead
 * (SALES_ACCESS_CREDIT_BUDGET, APOLLO_SCIM_TOKEN…).
 */
const SETTING = /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/;

const STACK_LINE = /\n\s+at [^\n]+:\d+:\d+\)?/;

describe('every tool, driven by generated arguments through the MCP client', () => {
  let stack: Stack;
  let tools: Tool[];
  let hints: Hints;
  let forbidden: string[];

  beforeAll(async () => {
    stack = await startStack({
      // Configured as the HTTP transport, where no result may name a server path at all (over stdio the
      // evidence files and stored results are named on purpose, for the admin on the same machine).
      flags: ['--http'],
      elicit: DECLINE,
      userCount: 20,
      sandbox: {
        zoominfoScimUserCount: 20,
        outreach: { rateLimit: { limit: 1_000_000, windowMs: 3_600_000 } },
        salesloft: { userCount: 20, rateLimit: { cost: 1_000_000, windowMs: 60_000 } },
        apollo: { limits: { minute: 1_000_000, hour: 1_000_000, day: 1_000_000 } },
        zoominfo: { rateLimit: { limit: 1_000_000, windowMs: 60_000 } },
      },
      env: {
        OUTREACH_RATE_LIMIT_PER_HOUR: '1000000',
        SALESLOFT_RATE_LIMIT_COST_PER_MINUTE: '1000000',
        ZOOMINFO_RATE_LIMIT_PER_MINUTE: '1000000',
      },
      // No SCIM limiter in the way either (the simulators publish none).
      configure: (config) => ({
        ...config,
        vendors: Object.fromEntries(Object.entries(config.vendors).map(([id, v]) => [id, { ...v, scim: v.scim && { ...v.scim, ratePerMinute: 1_000_000 } }])),
      }),
    });
    tools = (await stack.client.listTools()).tools;
    const outreach = stack.sandbox.outreach.users();
    hints = {
      emails: [...outreach.slice(0, 3).map((u) => u.email), 'nobody@acme.example'],
      ids: [...outreach.slice(0, 3).map((u) => String(u.id)), '999999', 'nope'],
    };
    forbidden = [stack.stateDir, process.cwd(), homedir() === '/' ? '' : `${homedir()}/`].filter((p) => p.length > 1);
  });
  afterAll(() => stack?.close());

  it('lists every tool of the server', () => {
    expect(tools.map((t) => t.name).sort()).toEqual(ALL_TOOLS.map((t) => t.name).sort());
  });

  // One property per tool (the sandbox registers them all); the schema is the one the client lists.
  it.each(ALL_TOOLS.map((t) => t.name))('%s: no crash, no stack trace or server path, rejections name the field', async (name) => {
    const tool = tools.find((t) => t.name === name)!;
    const auditBefore = stack.auditLines().filter((l) => l.type === 'outcome' && l.result === 'ok' && l.confirmation === 'elicit').length;
    await fc.assert(
      fc.asyncProperty(objectArb(tool.inputSchema, hints, 0, true), async (args) => {
        let r: CallToolResult;
        try {
          r = (await stack.client.callTool({ name: tool.name, arguments: args }, undefined, { timeout: 30_000 })) as CallToolResult;
        } catch (err) {
          throw new Error(`${tool.name} threw instead of answering: ${(err as Error).message}`);
        }
        const text = textsOf(r) + JSON.stringify(r.structuredContent ?? {});
        if (STACK_LINE.test(text) || text.includes('node_modules')) throw new Error(`${tool.name}: a stack trace in the result: ${text.slice(0, 400)}`);
        for (const p of forbidden) if (text.includes(p)) throw new Error(`${tool.name}: a server path (${p}) in the result: ${text.slice(0, 400)}`);
        if (/Internal error in/.test(text)) throw new Error(`${tool.name}: an internal error: ${text.slice(0, 400)}`);
        if (r.isError) {
          const said = textsOf(r);
          const named = mentions(tool, args).some((m) => said.includes(m)) || SETTING.test(said);
          if (!named) throw new Error(`${tool.name}: a rejection that names no field: ${said.slice(0, 400)} (args ${JSON.stringify(args).slice(0, 200)})`);
        }
      }),
      { numRuns: RUNS, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) },
    );
    // Nothing destructive went through: the client declined every confirmation.
    const approved = stack.auditLines().filter((l) => l.type === 'outcome' && l.result === 'ok' && l.confirmation === 'elicit').length;
    expect(approved, `${tool.name} made an approved write`).toBe(auditBefore);
  });
});
