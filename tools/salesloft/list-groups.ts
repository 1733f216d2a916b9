import * as z from 'zod';
import { defineTool } from '../types.js';
import { requireSalesloft } from './shared.js';

export default defineTool({
  name: 'salesloft_list_groups',
  vendor: 'salesloft',
  toolsets: ['salesloft'],
  title: 'List SalesLoft groups',
  description:
    'Lists the groups of the SalesLoft team. Groups are hierarchical (parent_id references the parent group) and organise users into reporting structures; each group comes with its full path from the top, ' +
    'e.g. "Revenue / Sales / Sales - EMEA". The user tools show each user\'s group by name.',
  inputSchema: {},
  outputSchema: {
    groups: z
      .array(
        z.object({
          id: z.string().describe('Group id, e.g. "212"'),
          name: z.string().nullable().describe('Group name, e.g. "Sales - EMEA"'),
          parent_id: z.string().nullable().describe('Id of the parent group; null for a top-level group, e.g. "205"'),
          path: z.string().describe('Names from the top-level group down to this one, e.g. "Revenue / Sales / Sales - EMEA"'),
          depth: z.number().int().describe('0 for a top-level group, 1 for its children, and so on, e.g. 2'),
        }),
      )
      .describe('Every group, parents before their children'),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  pagedField: 'groups',
  async handler(_args, ctx) {
    const groups = await requireSalesloft(ctx).listGroups(ctx.signal);
    const byId = new Map(groups.map((g) => [g.id, g]));
    const chain = (id: string): string[] => {
      const names: string[] = [];
      const seen = new Set<string>();
      for (let g = byId.get(id); g && !seen.has(g.id); g = g.parent_id ? byId.get(g.parent_id) : undefined) {
        seen.add(g.id);
        names.unshift(g.name ?? g.id);
      }
      return names;
    };
    const out = groups.map((g) => {
      const names = chain(g.id);
      return { id: g.id, name: g.name ?? null, parent_id: g.parent_id ?? null, path: names.join(' / '), depth: names.length - 1 };
    });
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { groups: out };
  },
});
