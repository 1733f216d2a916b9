import { defineTool } from '../types.js';
import { confirmShape, setLocked, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_unlock_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Unlock an Outreach user',
  description:
    'Restores login for a locked Outreach user (`locked: false`). Addressed by id or by email (acts only when exactly one user matches). ' +
    'Reads the user first; an already-unlocked user is a success with changed: false and nothing is sent. Use it to undo a mistaken lock; it does not reactivate a user deprovisioned through SCIM (active: false). ' +
    'The human must approve it, as for a lock: giving login back to the wrong person (someone who has left) is as harmful as locking the wrong one. The server asks in the client (MCP elicitation) or on a local approval page whose link it shows. ' +
    'The write is recorded in the audit log.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: (args, ctx) => setLocked(ctx, 'outreach_unlock_user', args, false),
});
