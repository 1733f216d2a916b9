import type * as z from 'zod';
import type { Deps } from '../../src/deps.js';
import type { PersonRef } from '../../src/audit/audit-log.js';
import type { ToolHints } from '../types.js';

/**
 * A tool only the in-chat views call (MCP Apps, `_meta.ui.visibility: ["app"]`): registered only for a
 * client that declares the extension, hidden from the model by the host, and outside the call protocol of
 * the model's tools (no job, no approval envelope): each answers at once.
 */
export interface AppToolContext {
  deps: Deps;
  /** The MCP session (HTTP) or connection (stdio) of the call, as the model's tools know it. */
  session: string;
  /** The host that relays the call: its MCP clientInfo name and version. */
  host: string;
  /** HTTP with the identity provider: the signed-in person whose session this is. */
  person?: PersonRef;
}

export interface AppToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputSchema: I;
  outputSchema: O;
  annotations: ToolHints;
  /** The view that calls it. */
  view: 'review' | 'offboarding';
  /** The model's tool without which it has nothing to do (it is registered only beside that tool). */
  companionOf: readonly string[];
  handler(args: z.infer<z.ZodObject<I>>, ctx: AppToolContext): Promise<z.infer<z.ZodObject<O>>>;
}

export function defineAppTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: AppToolDefinition<I, O>): AppToolDefinition<I, O> {
  return def;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyAppTool = AppToolDefinition<any, any>;
