import { defineTool } from '../types.js';
import { confirmShape, setLocked, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_unlock_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  // Not in the default set: it gives access back, which the default (review, offboard) never needs.
  title: 'Unlock an Outreach user',
  description:
    'Restores login for a locked Outreach user (`locked: false`), e.g. to undo a mistaken lock; it does not reactivate a user deprovisioned through SCIM (active: false). Reads first; an unlocked user is changed: false. The human approves, as for a lock: giving access back to someone who left is as harmful as locking the wrong person. Audited.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: (args, ctx) => setLocked(ctx, 'outreach_unlock_user', args, false),
});
