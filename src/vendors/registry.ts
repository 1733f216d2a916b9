import type { VendorAdapter } from './adapter.js';
import { apolloAdapter } from './apollo/adapter.js';
import { outreachAdapter } from './outreach/adapter.js';
import { salesloftAdapter } from './salesloft/adapter.js';
import { zoominfoAdapter } from './zoominfo/adapter.js';

/**
 * Every vendor this server knows, in the order results show them. A vendor is added by implementing
 * VendorAdapter in its own folder and adding it here; nothing else names it.
 */
export type Registry = readonly VendorAdapter<any, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- each adapter has its own settings type; the registry only passes them back to it

export const BUILTIN_ADAPTERS: Registry = [outreachAdapter, salesloftAdapter, apolloAdapter, zoominfoAdapter];
