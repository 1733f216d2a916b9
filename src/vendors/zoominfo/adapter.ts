import type { RateBudget } from '../../http/types.js';
import type { RestApi, VendorAdapter } from '../adapter.js';
import { zoominfoCapabilities } from './capabilities.js';
import type { ZoomInfoClient } from './client.js';
import { zoominfoConfig, type ZoomInfoConfig } from './config.js';
import { zoominfoReview } from './review.js';
import { createZoomInfoClient } from './connect.js';
import { ZOOMINFO } from './identity.js';
import { probeZoomInfo } from './probe.js';

/**
 * ZoomInfo: the Enterprise API (JWT login) reads prospect data and spends credits on every record; it has no
 * seat list and no user management. Seats are visible and deprovisionable only through SCIM, whose URL and
 * token come from the ZoomInfo account team (shared/vendor-docs/zoominfo-api.txt).
 */
const MANUAL =
  "ZoomInfo's REST API cannot deactivate seats. Unassign the user from the ZoomInfo application in your identity provider (Okta, Entra ID or OneLogin) so that SCIM deprovisions them, or ask the ZoomInfo account team. Configure ZOOMINFO_SCIM_URL / ZOOMINFO_SCIM_TOKEN so this server can do it.";

export class ZoomInfoRest implements RestApi {
  constructor(readonly client: ZoomInfoClient) {}

  get authKind() {
    return this.client.authKind;
  }

  budget(): RateBudget {
    return this.client.core.budget();
  }

  async close(): Promise<void> {
    await this.client.core.close();
  }
}

export const zoominfoAdapter: VendorAdapter<ZoomInfoConfig, ZoomInfoRest> = {
  id: ZOOMINFO.id,
  label: ZOOMINFO.label,
  envPrefix: 'ZOOMINFO',
  credentialVariables: ['ZOOMINFO_USERNAME', 'ZOOMINFO_PASSWORD'],
  capabilities: zoominfoCapabilities,
  review: zoominfoReview,
  // No REST seat list: what SCIM says about a person is the whole answer.
  scim: {
    tokenSource: 'provided by the ZoomInfo account team',
    authoritative: true,
    deprovisionNote:
      'ZoomInfo: verify in ZoomInfo Admin > Users that the user shows as inactive; removing a user from an IdP group alone may not deprovision them unless group push is configured.',
    deleteNote: 'ZoomInfo: the notes describe a SCIM DELETE as deactivating the user; verify in ZoomInfo Admin > Users.',
    provisionCaveats: ['The new user occupies a ZoomInfo seat; check the role in ZoomInfo Admin > Users.'],
  },
  offboarding: {
    seatFreed: () => null,
    manual: MANUAL,
    unlisted: {
      action: 'check for a seat and deactivate it by hand (this server cannot see ZoomInfo seats without SCIM)',
      instructions: MANUAL,
    },
    followUps: () => ['Check in your identity provider that the user is unassigned from the ZoomInfo application itself: removing them from a group may not deprovision them.'],
    adminNote:
      "ZoomInfo: do not leave \"Require SSO\" on unless every remaining admin can sign in through SSO, or admins may be locked out (the notes' warning).",
  },
  settings: zoominfoConfig,
  probe: probeZoomInfo,
  hasCredentials: (s) => s.username !== undefined && s.password !== undefined,
  async connectRest(settings, opts) {
    return new ZoomInfoRest((await createZoomInfoClient(settings, opts))!);
  },
};
