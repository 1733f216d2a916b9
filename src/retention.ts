import type { Config } from './config.js';
import { pruneOlderThan } from './fs-prune.js';
import type { Logger } from './log.js';
import { evidenceRoot } from './workflows/report.js';
import { resultsRoot } from './results.js';

/*
 * How long files under the state directory are kept: access-review evidence (SALES_ACCESS_EVIDENCE_RETENTION_DAYS,
 * default 90: a quarter's review stays until the next one is done) and stored large results
 * (SALES_ACCESS_RESULT_RETENTION_HOURS, default 24: working copies for the agent, not records). 0 keeps them.
 * Pruned when a server starts; stored results also whenever one is saved. The audit log, plans, tokens and the
 * credit ledger are never pruned here.
 */

const EVIDENCE = /^access-review-.+\.(csv|json|html)$/;

/** The start-up prune; a failure is logged, never fatal (the files are only kept longer). */
export async function pruneStateFiles(config: Pick<Config, 'stateDir' | 'retention'>, log: Logger, now = Date.now()): Promise<{ evidence: number; results: number }> {
  const { evidenceMs, resultsMs } = config.retention;
  const out = { evidence: 0, results: 0 };
  try {
    if (evidenceMs > 0) out.evidence = await pruneOlderThan(evidenceRoot(config.stateDir), now - evidenceMs, EVIDENCE);
    if (resultsMs > 0) out.results = await pruneOlderThan(resultsRoot(config.stateDir), now - resultsMs, /\.json$/);
  } catch (err) {
    log.warn({ code: (err as NodeJS.ErrnoException).code }, 'could not prune old evidence or results');
  }
  if (out.evidence + out.results > 0) log.info(out, 'pruned old evidence and stored results');
  return out;
}
