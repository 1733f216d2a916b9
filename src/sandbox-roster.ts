import { join } from 'node:path';
import type { Config } from './config.js';
import { ensurePrivateDir, writePrivateFile } from './fs-private.js';

/** Under the sandbox's state directory: the roster directory `--sandbox` sets up, with the sample HR export. */
export const SANDBOX_ROSTER_FILE = 'roster.csv';

/**
 * `--sandbox` ships the HR roster of its simulated company (the people its seats are drawn from, leavers with
 * their termination dates) as `<state dir>/roster/roster.csv` and makes that the roster directory, so
 * `access_review` with `roster_path: "roster.csv"` works from any client without setting anything. A roster
 * directory the admin set (SALES_ACCESS_ROSTER_DIR) is left alone and stays the one used. `csv` is the
 * sandbox's sampleRosterCsv(), passed in by the caller that loaded the simulators, so that this module never
 * loads them itself.
 */
export async function withSandboxRoster(config: Config, csv: string): Promise<Config> {
  if (config.rosterDir !== undefined) return config;
  const dir = join(config.stateDir, 'roster');
  await ensurePrivateDir(dir);
  await writePrivateFile(join(dir, SANDBOX_ROSTER_FILE), csv);
  return { ...config, rosterDir: dir };
}
