import { defineTool } from '../types.js';
import { confirmShape, setLocked, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_lock_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Lock an Outreach user',
  description:
    'Deactivates an Outreach user the way Outreach does it through REST: sets `locked: true`, which blocks login. Addressed by id or by email (acts only when exactly one user matches). ' +
    'Reads the user first; an already-locked user is a success with changed: false and nothing is sent. The human must approve the lock: the server asks in the client (MCP elicitation) or, for clients that cannot ask, on a local approval page whose link it shows. ' +
    'Caveats: a locked user STILL HOLDS A LICENSED SEAT (the Outreach notes name only Outreach support or SCIM DELETE as freeing it), and keeps their sequences, prospects and tasks until reassigned. ' +
    'Returns before and after state and the audit log operation id.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: (args, ctx) => setLocked(ctx, 'outreach_lock_user', args, true),
});
