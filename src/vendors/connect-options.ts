import type { Dispatcher } from 'undici';
import type { TokenStorage } from '../auth/token-store.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CapabilityCache } from './scim/client.js';

/** What every vendor's `connect.ts` factory receives from createDeps. */
export interface ConnectOptions {
  tokens: TokenStorage;
  clock: Clock;
  log: Logger;
  /** Tests pass an undici MockAgent. */
  dispatcher?: Dispatcher;
  /** Base delay of retry backoff; tests set a few ms. */
  retryBaseDelayMs?: number;
  /** Connect, headers and body timeouts of the vendor requests (default DEFAULT_TIMEOUTS); tests set short ones. */
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  /** The SCIM capability cache of a vendor's SCIM base URL shared by the replicas (Redis); none: per client. */
  scimCapabilities?: (vendor: string, url: string) => CapabilityCache;
}
