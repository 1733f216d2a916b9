import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireOutreach } from './shared.js';

export default defineTool({
  name: 'outreach_list_profiles',
  vendor: 'outreach',
  toolsets: ['outreach'],
  title: 'List Outreach profiles',
  description:
    'Lists the profiles (permission sets, e.g. Admin, Sales Rep) of this Outreach org with their ids. A user\'s profile decides what they can do; an Admin profile makes them an Outreach admin. ' +
    'outreach_create_user and outreach_update_user accept a profile by name or id.',
  inputSchema: {},
  outputSchema: {
    profiles: z.array(z.object({ id: z.string().describe('Profile id'), name: z.string().nullable().describe('Profile name') })).describe('All profiles'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const profiles = await requireOutreach(ctx).listProfiles(ctx.signal);
    return { profiles: profiles.map((p) => ({ id: p.id, name: p.attributes.name ?? null })) };
  },
});
