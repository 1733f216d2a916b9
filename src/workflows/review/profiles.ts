import { apolloReview } from '../../vendors/apollo/review.js';
import { outreachReview } from '../../vendors/outreach/review.js';
import { salesloftReview } from '../../vendors/salesloft/review.js';
import { zoominfoReview } from '../../vendors/zoominfo/review.js';
import type { VendorReviewProfile } from './profile.js';

/**
 * The built-in vendors' review profiles, in the order reviews report vendors. Temporary: the VendorAdapter
 * registry replaces this file, each adapter carrying its profile.
 */
const BUILTIN: ReadonlyMap<string, VendorReviewProfile> = new Map([
  ['outreach', outreachReview],
  ['salesloft', salesloftReview],
  ['apollo', apolloReview],
  ['zoominfo', zoominfoReview],
]);

export const builtinProfileOf = (vendor: string): VendorReviewProfile | undefined => BUILTIN.get(vendor);

export const BUILTIN_VENDOR_ORDER: readonly string[] = [...BUILTIN.keys()];

/** How the review names `vendor` in messages and reports; the vendor id itself when no profile knows it. */
export function vendorLabel(vendor: string): string {
  return BUILTIN.get(vendor)?.label ?? vendor;
}
