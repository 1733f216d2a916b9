import type { ProfileOf } from '../../domain/review.js';
import { BUILTIN_ADAPTERS, type Registry } from '../../vendors/registry.js';

/** The review profiles of a registry's adapters, and the order its vendors are reported in. */
export function registryProfiles(registry: Registry = BUILTIN_ADAPTERS): { profileOf: ProfileOf; vendorOrder: readonly string[] } {
  const byId = new Map(registry.map((a) => [a.id, a.review]));
  return { profileOf: (vendor) => byId.get(vendor), vendorOrder: registry.map((a) => a.id) };
}
