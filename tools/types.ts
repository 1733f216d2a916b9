import * as z from 'zod';
import type { Confirmation, ConfirmRequest } from '../src/confirm/gate.js';
import type { Deps } from '../src/deps.js';
import type { Actor, ConfirmationDetail } from '../src/audit/audit-log.js';
import type { Toolset } from '../src/toolsets.js';
import type { PageDetail } from '../src/domain/progress.js';
import { JOB_ID_RE } from '../src/jobs/runner.js';

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
  /**
   * Progress of the work: an MCP progress notification to the calls waiting for it (none when they carried no
   * progressToken), and what a `running` result shows. A listing passes `page` (pages and accounts so far):
   * the job's expected finish is reckoned from it.
   */
  progress(progress: number, total: number | undefined, message: string, page?: PageDetail): Promise<void>;
  /**
   * The write-confirmation gate: resolves when a human approved; throws ConfirmationRefused when it cannot be
   * asked or was refused in the client's dialog, and ApprovalOutcome when the call must answer without writing
   * (approval_required, pending, declined). Neither is to be caught by a tool.
   */
  confirm(request: ConfirmRequest): Promise<Confirmation>;
  /** When this call was approved on the approval page or in the in-chat view: the decision time, and the browser's User-Agent or the host. */
  confirmationDetail(): ConfirmationDetail | undefined;
  actor: Actor;
  /** The MCP session (HTTP) or connection (stdio process) of the call: jobs and approvals belong to it. */
  session: string;
  /** The job's own signal: aborted by cancel_job (read-only work) or shutdown, never by a client giving up. */
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

// ---------------------------------------------------------------------------------------------------------
// The call protocol every tool follows (tool-runtime.ts), as its registered schemas show it.

/** `status` of every result: `done` carries the tool's own fields; the others say why they are absent. */
export const CALL_STATUSES = ['done', 'running', 'approval_required', 'pending', 'declined'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

const APPROVAL_ID_RE = /^[A-Za-z0-9_-]{22}$/;

// Short descriptions and plain numbers (an integer schema carries its bounds): this envelope is repeated in
// every tool's outputSchema; the README has the long form.
const approvalShape = {
  id: z.string().nullable().describe('Approval request id (the end of its URL)'),
  status: z.enum(['required', 'pending', 'approved', 'declined']).describe('Where the approval stands'),
  method: z.enum(['browser', 'elicit', 'token', 'app']).describe('browser: approval page; elicit: client dialog; token: confirm argument; app: in-chat view'),
  url: z.string().nullable().describe('The approval page, for the user to open'),
  summary: z.string().describe('The change'),
  expires_at: z.string().nullable().describe('Link expiry (ISO 8601)'),
  decided_at: z.string().nullable().describe('Decision time (ISO 8601)'),
  approved_by: z.string().nullable().describe('Who approved, and how'),
};

const jobShape = {
  id: z.string().describe('Pass as job_id to pick this work up'),
  state: z.enum(['running', 'done', 'failed']).describe('Job state'),
  started_at: z.string().describe('Start (ISO 8601)'),
  elapsed_seconds: z.number().describe('Seconds since start'),
  progress: z
    .object({
      done: z.number().nullable().describe('Units done (listing pages, offboarding steps)'),
      total: z.number().nullable().describe('Units in all'),
      pages: z.number().nullable().describe('Pages fetched'),
      pages_total: z.number().nullable().describe('Pages in all'),
      accounts: z.number().nullable().describe('Accounts fetched'),
      vendor_requests: z.number().describe('Vendor requests sent'),
      message: z.string().nullable().describe('Last progress message'),
    })
    .describe('Progress so far'),
  expected_finish_at: z.string().nullable().describe('Estimate from the rate limits (ISO 8601)'),
};

const nextShape = {
  tool: z.string().describe('Tool to call'),
  add_arguments: z.record(z.string(), z.string()).describe('Add to the same arguments as this call'),
  retry_after_seconds: z.number().describe('Wait this long first (0: at once)'),
  instruction: z.string().describe('What to do'),
};

/** The protocol fields of every tool's result. */
export const callEnvelopeShape = {
  status: z
    .enum(CALL_STATUSES)
    .describe('done: the result below. running: unfinished, call as `next` says. approval_required, pending: nothing changed, show the user `message`. declined: the user rejected it'),
  message: z.string().optional().describe('Unless done: a sentence for the user'),
  approval: z.object(approvalShape).optional().describe('Approval needed or used'),
  job: z.object(jobShape).optional().describe('The unfinished work'),
  next: z.object(nextShape).optional().describe('The call to make next'),
};

export type ApprovalResultView = z.infer<z.ZodObject<typeof approvalShape>>;
export type CallEnvelope = z.infer<z.ZodObject<typeof callEnvelopeShape>>;

/**
 * A tool's registered output schema: its own fields, optional (a `running` or approval result has none of
 * them), plus the protocol fields. A `done` result is still checked against the tool's complete schema.
 */
export function callOutputSchema(tool: AnyTool) {
  const own = z.object(tool.outputSchema as z.ZodRawShape);
  return z.object({ ...own.partial().shape, ...callEnvelopeShape }).superRefine((value, ctx) => {
    if (value.status !== 'done') return;
    const r = own.safeParse(value);
    if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });
}

/** The arguments only SALES_ACCESS_CONFIRM=token reads (tokenConfirmArg); callInputShape hides them otherwise. */
const TOKEN_CONFIRM_ARGS = new WeakSet<object>();

/** Marks `schema` as an argument that only SALES_ACCESS_CONFIRM=token reads. */
export function tokenConfirmArg<T extends z.ZodType>(schema: T): T {
  TOKEN_CONFIRM_ARGS.add(schema);
  return schema;
}

/**
 * A tool's registered description: its own, plus for a destructive tool the approval protocol in a sentence.
 * That a call may answer `running` is told by `job_id` (in every tool's schema), the server's instructions and
 * each unfinished result's `next`, not by a sentence in every description: the default tools/list must stay
 * within 24 KB of the model's context.
 */
export function callDescription(tool: AnyTool): string {
  const approval =
    ' Needs human approval: "approval_required"/"pending" means nothing changed yet; show the user `message`, then call again.';
  return tool.annotations.destructiveHint ? `${tool.description}${approval}` : tool.description;
}

/**
 * A tool's registered arguments: its own, plus `job_id` (every tool) and `approval_id` (destructive tools).
 * The token-confirm arguments show only when the server runs with SALES_ACCESS_CONFIRM=token, the one mode that reads them:
 * elsewhere it would cost every conversation its description and invite a model to fill it in.
 */
export function callInputShape(tool: AnyTool, vendorIds: VendorIds, opts: { tokenConfirm: boolean } = { tokenConfirm: true }): z.ZodRawShape {
  const own = Object.entries(inputShape(tool, vendorIds)).filter(([, schema]) => opts.tokenConfirm || !TOKEN_CONFIRM_ARGS.has(schema));
  return {
    ...Object.fromEntries(own),
    // The id formats are checked by refinements, which JSON Schema does not show: a pattern in every tool's
    // schema costs the model's context and tells it nothing it needs.
    job_id: z
      .string()
      .max(64)
      .refine((v) => JOB_ID_RE.test(v), 'must be the job.id of a "running" answer, e.g. "job_3q2…"')
      .optional()
      .describe('job.id of a "running" answer, to pick it up'),
    ...(tool.annotations.destructiveHint
      ? {
          approval_id: z
            .string()
            .max(64)
            .refine((v) => APPROVAL_ID_RE.test(v), 'must be the approval.id of an "approval_required" answer')
            .optional()
            .describe('After "approval_required": its approval.id (it approves nothing)'),
        }
      : {}),
  };
}
