import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../src/sandbox/index.js';
import type { SandboxOptions } from '../src/sandbox/index.js';
import type { RemoteSandboxInfo, SimHostMessage, SimHostStats } from './sim-host.js';

/** The bench sandbox running in a child process (bench/sim-host.ts), seen from the benchmark process. */
export interface SimHost {
  /**
   * Only the fields src/sandbox/index.ts sandboxConfig reads (URLs, tokens, keys): enough for startBenchStack's
   * config, nothing else (no users(), no request logs; rateLimitCheck() must not be called on such a stack).
   */
  sandbox: Sandbox;
  info: RemoteSandboxInfo;
  counts: Record<string, number>;
  startupMs: number;
  pid: number;
  stats(): Promise<SimHostStats>;
  /** Asks the child to close its simulators and exit; SIGKILL after 5 s. Safe to call twice. */
  close(): Promise<void>;
}

export async function startSimHost(opts: SandboxOptions, startupTimeoutMs = 60_000): Promise<SimHost> {
  const script = fileURLToPath(new URL('./sim-host.js', import.meta.url));
  const child: ChildProcess = fork(script, [JSON.stringify(opts)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
  // If the benchmark process dies some other way, do not leave the simulators running.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let pendingStats: ((s: SimHostStats) => void)[] = [];
  const close = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'close' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const ready = await new Promise<Extract<SimHostMessage, { type: 'ready' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sim-host not ready after ${startupTimeoutMs} ms`)), startupTimeoutMs);
      child.once('exit', (code, signal) => reject(new Error(`sim-host exited during startup (code ${code}, signal ${signal})`)));
      child.on('message', (m: SimHostMessage) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          resolve(m);
        } else if (m.type === 'error') {
          clearTimeout(timer);
          reject(new Error(`sim-host: ${m.message}`));
        } else if (m.type === 'stats') {
          const { type: _t, ...s } = m;
          const waiting = pendingStats;
          pendingStats = [];
          for (const w of waiting) w(s);
        }
      });
    });
    const { info } = ready;
    return {
      sandbox: info as unknown as Sandbox,
      info,
      counts: ready.counts,
      startupMs: ready.startup_ms,
      pid: child.pid ?? -1,
      stats: () =>
        new Promise<SimHostStats>((resolve, reject) => {
          if (!child.connected) return reject(new Error('sim-host is gone'));
          pendingStats.push(resolve);
          child.send({ type: 'stats' });
        }),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
