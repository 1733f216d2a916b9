import type { VendorId as Vendor } from '../domain/account.js';

/** One account a confirmation names, and what will happen to it. */
export interface ConfirmTarget {
  vendor: Vendor;
  id: string;
  email: string | null;
  /** What will happen, e.g. "lock (locked: true)". */
  action: string;
}
