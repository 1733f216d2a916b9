import type { Change } from '../adapter.js';
import type { ScimClient } from './client.js';
import type { ScimUser } from './wire.js';

/**
 * SCIM deprovisioning (active=false) of one user, the way an identity provider offboards: the same change for
 * scim_deprovision_user and for an offboarding step on any vendor's SCIM connection. The client sends a
 * PatchOp (PUT when the server has no PATCH), and reads the user back itself.
 */
export function scimDeprovisionChange(
  scim: ScimClient,
  target: { id: string; email: string | null },
  o: { summary: string; caveats: string[] },
): Change<ScimUser> {
  return {
    vendor: scim.vendor,
    kind: 'scim_deprovision',
    via: 'scim',
    target,
    summary: o.summary,
    action: 'deprovision (SCIM active=false): blocks login',
    caveats: o.caveats,
    read: (signal) => scim.getUser(target.id, signal),
    satisfied: (u) => u.active === false,
    apply: async (current, signal) => {
      const w = await scim.deprovision(current, signal);
      return { requestId: w.requestId, after: w.after, how: w.method };
    },
  };
}
