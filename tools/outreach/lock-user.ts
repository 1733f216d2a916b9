import { defineTool } from '../types.js';
import { confirmShape, setLocked, userRefShape, writeOutputShape } from './shared.js';

export default defineTool({
  name: 'outreach_lock_user',
  vendor: 'outreach',
  toolsets: ['outreach'],
  lifecycle: true,
  title: 'Lock an Outreach user',
  description:
    'Takes Outreach access away the REST way: `locked: true` blocks login. Reads first; an already-locked user is changed: false. The human approves (in the client or on a local approval page whose link the call shows). A locked user STILL HOLDS A LICENSED SEAT (only Outreach support or SCIM DELETE free it) and keeps their sequences, prospects and tasks until reassigned. Audited; returns before and after.',
  inputSchema: { ...userRefShape, ...confirmShape },
  outputSchema: writeOutputShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: true },
  handler: (args, ctx) => setLocked(ctx, 'outreach_lock_user', args, true),
});
