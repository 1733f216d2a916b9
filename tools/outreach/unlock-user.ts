import { defineTool } from '../types.js';
import { setLocked, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_unlock_user',
  vendor: 'outreach',
  title: 'Unlock an Outreach user',
  description:
    'Restores login for a locked Outreach user (`locked: false`). Addressed by id or by email (acts only when exactly one user matches). ' +
    'An already-unlocked user is a success with changed: false. Use it to undo a mistaken lock; it does not reactivate a user deprovisioned through SCIM (active: false). ' +
    'The write is recorded in the audit log.',
  inputSchema: { ...userRefShape },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  handler: (args, ctx) => setLocked(ctx, 'outreach_unlock_user', args, false),
});
