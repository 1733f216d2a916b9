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
  /** 'refresh': Bottleneck's reservoirRefreshInterval; 'giveback': each job's weight returns windowMs after it started. */
  mode: 'refresh' | 'giveback';
  /** Epoch ms to stop submitting. */
  untilMs: number;
  /** Epoch ms to start submitting (both replicas start together). */
  startMs: number;
  loops: number;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;
  const client = new Redis(spec.url, { maxRetriesPerRequest: 1 });
  const connection = new Bottleneck.IORedisConnection({ client });
  const limiter = new Bottleneck({
    id: spec.id,
    datastore: 'ioredis',
    connection,
    // The first replica to reach Redis creates the settings; later ones keep them (clearDatastore false).
    reservoir: spec.limit,
    ...(spec.mode === 'refresh' ? { reservoirRefreshAmount: spec.limit, reservoirRefreshInterval: spec.windowMs } : {}),
    ...(spec.heartbeatMs === null ? {} : { heartbeatInterval: spec.heartbeatMs }),
  });
  limiter.on('error', (e: Error) => process.stderr.write(`worker limiter error: ${e.message}\n`));
  await limiter.ready();
  const starts: number[] = [];
  const givebacks: Promise<unknown>[] = [];
  await new Promise((r) => setTimeout(r, Math.max(0, spec.startMs - Date.now())));
  const loop = async () => {
    while (Date.now() < spec.untilMs) {
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
