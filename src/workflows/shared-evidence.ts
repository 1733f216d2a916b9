import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { SharedRedis } from '../shared/redis.js';
import type { EvidencePaths } from './report.js';

/*
 * With SALES_ACCESS_REDIS_URL, a copy of each access review's evidence files in Redis (`<prefix>evidence:<file
 * name>`, kept for the evidence retention), so that the `sales-access://evidence/…` resource is found by
 * whichever replica a `resources/read` reaches. The files under the replica's state directory stay the record.
 * Evidence holds accounts, emails and findings, never a credential.
 */

export async function shareEvidence(redis: SharedRedis, paths: EvidencePaths, retentionMs: number): Promise<void> {
  const files = await Promise.all(Object.values(paths).map(async (p: string) => [basename(p), await readFile(p, 'utf8')] as const));
  await redis.run('sharing the access review evidence', async (c) => {
    const tx = c.multi();
    for (const [name, text] of files) {
      if (retentionMs > 0) tx.set(redis.key('evidence', name), text, 'PX', retentionMs);
      else tx.set(redis.key('evidence', name), text);
    }
    await tx.exec();
  });
}

/** The shared copy of evidence file `name` (already checked against the file-name pattern), if any. */
export async function sharedEvidence(redis: SharedRedis, name: string): Promise<string | undefined> {
  return (await redis.run('reading the access review evidence', (c) => c.get(redis.key('evidence', name)))) ?? undefined;
}
