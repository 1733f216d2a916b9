import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../src/sandbox/index.js';
import { closeServer, serveLoopback } from '../../src/sandbox/http-util.js';

describe('simulator latency (ServeOptions.latencyMs, for the benchmarks)', () => {
  it('answers every request no sooner than latencyMs, and refuses a negative or infinite latency', async () => {
    const { server, origin } = await serveLoopback(
      async (_req, res) => {
        res.writeHead(204).end();
      },
      { latencyMs: 40 },
    );
    try {
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const res = await request(origin);
        await res.body.dump();
        expect(res.statusCode).toBe(204);
        // A lower bound only (load can make it slower, never faster); 1 ms for timer rounding.
        expect(performance.now() - t0).toBeGreaterThanOrEqual(39);
      }
    } finally {
      await closeServer(server);
    }
    await expect(serveLoopback(async () => {}, { latencyMs: -1 })).rejects.toThrow(/latencyMs must be a finite number >= 0/);
    await expect(serveLoopback(async () => {}, { latencyMs: Infinity })).rejects.toThrow(RangeError);
    await expect(serveLoopback(async () => {}, { latencyMs: { min: 30, max: 10 } })).rejects.toThrow(/0 <= min <= max/);
  });

  it('a { min, max } latency waits at least min on every request', async () => {
    const { server, origin } = await serveLoopback(
      async (_req, res) => {
        res.writeHead(204).end();
      },
      { latencyMs: { min: 30, max: 60 } },
    );
    try {
      for (let i = 0; i < 4; i++) {
        const t0 = performance.now();
        const res = await request(origin);
        await res.body.dump();
        expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
      }
    } finally {
      await closeServer(server);
    }
  });

  it('startSandbox passes latencyMs to every simulator, REST and SCIM', async () => {
    const sandbox = await startSandbox({ latencyMs: 40 });
    try {
      const urls = [
        `${sandbox.outreach.baseUrl}/users`,
        `${sandbox.salesloft.baseUrl}/v2/users`,
        `${sandbox.apollo.baseUrl}/v1/users/search`,
        `${sandbox.zoominfo.baseUrl}/authenticate`,
        ...Object.values(sandbox.scim).map((s) => `${s.url}/Users`),
      ];
      for (const url of urls) {
        const t0 = performance.now();
        const res = await request(url); // unauthenticated: the answer (401 or 405) still waits
        await res.body.dump();
        expect(performance.now() - t0, url).toBeGreaterThanOrEqual(39);
      }
    } finally {
      await sandbox.close();
    }
  });
});
