import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireApollo } from './shared.js';

export default defineTool({
  name: 'apollo_get_token_owner',
  vendor: 'apollo',
  toolsets: ['apollo'],
  title: 'Who owns the Apollo.io key or token',
  description:
    'Identifies the Apollo.io user who owns the configured credential: with an API key through GET /users/api_profile, with an OAuth bearer token through GET /auth/health ' +
    '(which accepts only bearer tokens, never X-Api-Key). Use it to check which account the server acts as before an access review or an offboarding; ' +
    "if that person leaves, every key they created must be replaced. Spends no credits.",
  inputSchema: {},
  outputSchema: {
    via: z.enum(['GET /users/api_profile', 'GET /auth/health']).describe('The Apollo endpoint that answered'),
    auth_kind: z.string().describe('How the server authenticates: api_key, bearer (static OAuth token) or oauth_refresh'),
    user: z
      .object({
        id: z.string().describe('Apollo user id'),
        email: z.string().nullable().describe('Email of the owner'),
        name: z.string().nullable().describe('Name of the owner'),
        team_id: z.string().nullable().describe('Apollo team id'),
      })
      .describe('The owner of the credential'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  async handler(_args, ctx) {
    const client = requireApollo(ctx);
    const owner = await client.tokenOwner(ctx.signal);
    return { via: owner.via, auth_kind: client.authKind, user: { id: owner.id, email: owner.email, name: owner.name, team_id: owner.team_id } };
  },
});
