/**
 * Child process of the limiter_engine benchmark: one "replica" driving a Bottleneck limiter clustered on
 * Redis. Argv: a JSON WorkerSpec. Prints one JSON line on stdout: the epoch ms at which each job started.
 */
import Bottleneck from 'bottleneck';
import { Redis } from 'ioredis';

export interface WorkerSpec {
  url: string;
  id: string;
  /** Jobs per window allowed to all replicas together. */
  limit: number;
  windowMs: number;
  heartbeatMs: number | null;
  /**
   * 'refresh': Bottleneck's reservoirRefreshInterval; 'giveback': each job's weight returns to the
   * reservoir windowMs after it started; 'slots': maxConcurrent is the window's limit and each job keeps
   * its slot for windowMs + SLOT_SLACK_MS (an expiration, so Redis frees the slots of a replica that died).
   */
  mode: 'refresh' | 'giveback' | 'slots';
  /** This replica dies (SIGKILL) this long after startMs, printing what it admitted first. */
  dieAfterMs?: number;
  /** Epoch ms to stop submitting. */
  untilMs: number;
  /** Epoch ms to start submitting (both replicas start together). */
  startMs: number;
  loops: number;
}

/**
 * A slot's expiration counts from Bottleneck's registration, which comes a timer tick (about 1 ms, more on a
 * busy machine) before the job starts: without slack an 11th start fits in a window that began at a start.
 */
const SLOT_SLACK_MS = 25;

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  const client = new Redis(spec.url, { maxRetriesPerRequest: 1 });
  const connection = new Bottleneck.IORedisConnection({ client });
  const limiter = new Bottleneck({
    id: spec.id,
    datastore: 'ioredis',
    connection,
    // The first replica to reach Redis creates the settings; later ones keep them (clearDatastore false).
    ...(spec.mode === 'slots' ? { maxConcurrent: spec.limit } : { reservoir: spec.limit }),
    ...(spec.mode === 'refresh' ? { reservoirRefreshAmount: spec.limit, reservoirRefreshInterval: spec.windowMs } : {}),
    ...(spec.heartbeatMs === null ? {} : { heartbeatInterval: spec.heartbeatMs }),
  });
  limiter.on('error', (e: Error) => process.stderr.write(`worker limiter error: ${e.message}\n`));
  await limiter.ready();
  const starts: number[] = [];
  const givebacks: Promise<unknown>[] = [];
  await new Promise((r) => setTimeout(r, Math.max(0, spec.startMs - Date.now())));
  if (spec.dieAfterMs !== undefined) {
    setTimeout(() => {
      process.stdout.write(`${JSON.stringify({ starts })}\n`, () => process.kill(process.pid, 'SIGKILL'));
    }, spec.startMs + spec.dieAfterMs - Date.now());
  }
  const loop = async () => {
    while (Date.now() < spec.untilMs) {
      if (spec.mode === 'slots') {
        // The caller goes on at the job's start; the job itself holds the slot for one window.
        await new Promise<void>((started) => {
          limiter
            .schedule({ expiration: spec.windowMs + SLOT_SLACK_MS }, () => {
              starts.push(Date.now());
              started();
              return new Promise<void>(() => {}); // freed by the expiration, here or (if this process died) in Redis
            })
            .catch(() => undefined); // "This job timed out": the slot's window is over
        });
        continue;
      }
      await limiter.schedule(async () => {
        const t = Date.now();
        starts.push(t);
        if (spec.mode === 'giveback') {
          givebacks.push(new Promise((r) => setTimeout(r, t + spec.windowMs - Date.now())).then(() => limiter.incrementReservoir(1)));
        }
      });
    }
  };
  // Jobs still queued at untilMs start later; they are counted too (they are real admissions).
  await Promise.race([Promise.all(Array.from({ length: spec.loops }, loop)), new Promise((r) => setTimeout(r, spec.untilMs - Date.now() + spec.windowMs * 2))]);
  process.stdout.write(`${JSON.stringify({ starts })}\n`);
  await limiter.stop({ dropWaitingJobs: true }).catch(() => undefined);
  await connection.disconnect(false);
  process.exit(0);
}

void main();
