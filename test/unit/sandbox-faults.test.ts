import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOutreachSimulator, type OutreachSim } from '../../src/sandbox/outreach/index.js';

/*
 * The fault kinds every simulator shares (FaultQueue and simulatorHandler in src/sandbox/http-util.ts), seen
 * on the wire, against the Outreach simulator: what the client receives, what the simulator's state and
 * request log say. test/tools/fault-matrix.test.ts drives the same faults through the tools for every vendor.
 */

const JSONAPI = 'application/vnd.api+json';
/** Short client timeouts: a held or stalled answer ends in a fraction of a second. */
const agent = new Agent({ headersTimeout: 300, bodyTimeout: 300 });

let sim: OutreachSim;
beforeAll(async () => {
  sim = await startOutreachSimulator({ userCount: 20, books: false });
});
afterAll(async () => {
  await sim.close();
  await agent.close();
});

function send(method: string, path: string, body?: unknown) {
  return request(`${sim.baseUrl}${path}`, {
    method: method as 'GET',
    dispatcher: agent,
    headers: { authorization: `Bearer ${sim.staticAccessToken}`, accept: JSONAPI, ...(body ? { 'content-type': JSONAPI } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

const lock = (userId: string | number) => {
  const id = String(userId);
  return send('PATCH', `/users/${id}`, { data: { type: 'user', id, attributes: { locked: true } } });
};
const unlocked = () => sim.users().filter((u) => !u.locked);
const errorCode = (err: unknown) => (err as { code?: string }).code;

describe('simulator fault kinds (shared by every simulator)', () => {
  it('html: a proxy answers the status with its own HTML page, logged with that status; nothing is served', async () => {
    sim.failNext(1, 502, { html: true, path: /\/users/ });
    const from = sim.requests.length;
    const res = await send('GET', '/users');
    expect(res.statusCode).toBe(502);
    expect(res.headers['content-type']).toBe('text/html');
    expect(await res.body.text()).toMatch(/<title>502 Bad Gateway<\/title>/);
    expect(sim.requests.slice(from).map((r) => r.status)).toEqual([502]);
    expect((await send('GET', '/users')).statusCode).toBe(200);
  });

  it('holdHeaders: no answer at all until the client gives up (headers timeout); logged as dropped; nothing applied', async () => {
    const [user] = unlocked();
    sim.failNext(1, 0, { holdHeaders: true, method: 'PATCH' });
    const from = sim.requests.length;
    const err = await lock(user!.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorCode(err)).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(sim.requests.slice(from).map((r) => [r.method, r.status])).toEqual([['PATCH', 0]]);
    expect(sim.users().find((u) => u.id === user!.id)!.locked).toBe(false);
  });

  it("afterServe 'drop': the write is applied, then the connection is reset before any byte of the answer", async () => {
    const [user] = unlocked();
    sim.failNext(1, 200, { afterServe: 'drop', method: 'PATCH' });
    const from = sim.requests.length;
    const err = await lock(user!.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorCode(err)).toMatch(/UND_ERR_SOCKET|ECONNRESET/);
    expect(sim.users().find((u) => u.id === user!.id)!.locked).toBe(true);
    // The request log has what the vendor did (served, 200), whatever became of the answer.
    expect(sim.requests.slice(from).map((r) => [r.method, r.status])).toEqual([['PATCH', 200]]);
  });

  it("afterServe 'late': the write is applied and its answer held past the client's headers timeout", async () => {
    const [user] = unlocked();
    sim.failNext(1, 200, { afterServe: 'late', method: 'PATCH' });
    const err = await lock(user!.id).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorCode(err)).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(sim.users().find((u) => u.id === user!.id)!.locked).toBe(true);
  });

  it("afterServe 'stall-body': the vendor's status and headers, half the body, then nothing (body timeout)", async () => {
    sim.failNext(1, 200, { afterServe: 'stall-body', method: 'GET' });
    const res = await send('GET', '/users?page[size]=5');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSONAPI);
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    const err = await res.body.text().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(errorCode(err)).toBe('UND_ERR_BODY_TIMEOUT');
  });

  it("afterServe 'malformed-json': the write is applied and answered with its status and JSON type, the body cut short", async () => {
    const [user] = unlocked();
    sim.failNext(1, 200, { afterServe: 'malformed-json', method: 'PATCH' });
    const res = await lock(user!.id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(JSONAPI);
    const text = await res.body.text();
    expect(() => JSON.parse(text)).toThrow();
    expect(sim.users().find((u) => u.id === user!.id)!.locked).toBe(true);
  });

  it('clearFaults drops what is still queued and says how much that was', async () => {
    sim.failNext(5, 503, { path: /\/users/ });
    expect((await send('GET', '/users')).statusCode).toBe(503);
    expect(sim.clearFaults()).toBe(4);
    expect((await send('GET', '/users')).statusCode).toBe(200);
  });
});
