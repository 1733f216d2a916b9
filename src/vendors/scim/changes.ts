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

/** What a SCIM DELETE reads: whether the server still serves the user. */
export interface ScimPresence {
  present: boolean;
  user: ScimUser | null;
}

/**
 * SCIM DELETE of one user: the only API way Outreach frees a locked user's seat (notes). Irreversible where
 * the vendor really deletes. A user the server no longer serves is already done; a server that answers the
 * DELETE but still serves the user did not delete it, and the write path reports that.
 */
export function scimDeleteChange(scim: ScimClient, target: { id: string; email: string | null }, o: { summary: string; caveats: string[] }): Change<ScimPresence> {
  const read = async (signal?: AbortSignal): Promise<ScimPresence> => {
    try {
      return { present: true, user: await scim.getUser(target.id, signal) };
    } catch (err) {
      if ((err as { code?: string }).code === 'not_found') return { present: false, user: null };
      throw err;
    }
  };
  return {
    vendor: scim.vendor,
    kind: 'scim_delete',
    via: 'scim',
    target,
    summary: o.summary,
    action: 'delete the user through SCIM (DELETE /Users): frees the licensed seat, irreversible',
    caveats: o.caveats,
    read,
    satisfied: (s) => !s.present,
    apply: async (_current, signal) => ({ requestId: (await scim.deleteUser(target.id, { signal })).requestId }),
  };
}
