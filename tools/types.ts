import type * as z from 'zod';
import type { Confirmation, ConfirmRequest } from '../src/confirm/gate.js';
import type { Deps } from '../src/deps.js';
import type { Actor, ConfirmationDetail } from '../src/audit/audit-log.js';
import type { Toolset } from '../src/toolsets.js';

/** The four behaviour hints every tool must set explicitly (a test checks each tool). */
export interface ToolHints {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

/** What a handler gets besides its arguments. */
export interface ToolContext {
  deps: Deps;
  /** MCP progress notification; a no-op when the request carried no progressToken. */
  progress(progress: number, total: number | undefined, message: string): Promise<void>;
  /** The write-confirmation gate: resolves when a human approved, throws ConfirmationRefused otherwise. */
  confirm(request: ConfirmRequest): Promise<Confirmation>;
  /** When this call was approved on the browser approval page: the decision time and the browser's User-Agent. */
  confirmationDetail(): ConfirmationDetail | undefined;
  actor: Actor;
  signal: AbortSignal;
}

export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  /** The vendor (adapter id) whose REST credentials the tool needs; null for cross-vendor tools. */
  vendor: string | null;
  /** A tool that works through SCIM connections is registered only when at least one is configured. */
  requires?: 'scim';
  /** The toolsets (`--toolsets`) the tool belongs to; `--toolsets all` reaches every tool. */
  toolsets: readonly Toolset[];
  /**
   * One of its vendor's user-lifecycle tools (read, create, change or take away a seat): served by default,
   * with the workflows, when the vendor is configured. The rest of a vendor's tools, those that give access
   * back (unlock, reactivate) included, need its toolset.
   */
  lifecycle?: boolean;
  title: string;
  description: string;
  /**
   * The arguments. A function of the registered vendor ids when an argument names vendors, so that an enum
   * lists exactly the vendors this server knows (the registry decides, not the tool).
   */
  inputSchema: I | ((vendorIds: VendorIds) => I);
  outputSchema: O;
  annotations: ToolHints;
  /**
   * The array field of the output that is cut to fit when the result exceeds the size limit; the complete
   * result is then stored as a resource. A tool whose result can grow without bound must name one.
   */
  pagedField?: keyof O & string;
  handler(args: z.infer<z.ZodObject<I>>, ctx: ToolContext): Promise<z.infer<z.ZodObject<O>>>;
  /** Files the result refers to, returned as MCP resource links beside the JSON (e.g. evidence reports). */
  resourceLinks?(output: z.infer<z.ZodObject<O>>): ResourceLinkSpec[];
}

/** The registered vendor ids, in registry order (never empty: a z.enum needs one value). */
export type VendorIds = readonly [string, ...string[]];

/** A tool's input shape for these vendor ids. */
export function inputShape(tool: AnyTool, vendorIds: VendorIds): z.ZodRawShape {
  return typeof tool.inputSchema === 'function' ? tool.inputSchema(vendorIds) : tool.inputSchema;
}

export interface ResourceLinkSpec {
  uri: string;
  name: string;
  mimeType: string;
  description: string;
}

/** Identity function that keeps the generic parameters inferred at each tool's definition site. */
export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

// The registry holds tools of different shapes; each is validated by its own schema at the SDK boundary.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTool = ToolDefinition<any, any>;
