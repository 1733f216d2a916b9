import type { RouteSpec } from '../router.js';
import { authenticate, lookupContact, usageCollection, usageNotes } from './handlers/account.js';
import { enrich } from './handlers/enrich.js';
import { search } from './handlers/search.js';
import type { ZiCall } from './http.js';

export interface ZiRoute extends RouteSpec {
  handler: (c: ZiCall) => unknown;
  /** Served without a JWT (only /authenticate); every other path checks the JWT first, even to say 404 or 405. */
  public?: boolean;
}

/** The Enterprise API's paths hang directly off the base URL. */
export const ROUTES: readonly ZiRoute[] = [
  { method: 'POST', path: '/authenticate', handler: authenticate, public: true },
  { method: 'POST', path: '/search/contact', handler: (c) => search(c, 'contact') },
  { method: 'POST', path: '/search/company', handler: (c) => search(c, 'company') },
  { method: 'POST', path: '/enrich/contact', handler: (c) => enrich(c, 'contact') },
  { method: 'POST', path: '/enrich/company', handler: (c) => enrich(c, 'company') },
  // The notes' lookup by id (not in the collection).
  { method: 'GET', path: '/lookup/contact/:id', handler: lookupContact },
  // Usage in both shapes (collection and notes), so a client's fallback can be tested with disableRoute().
  { method: 'GET', path: '/lookup/usage', handler: usageCollection },
  { method: 'GET', path: '/usage', handler: usageNotes },
];
