import { createHash, randomBytes } from 'node:crypto';
import type { McpServer, RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { ErrorCode, McpError, UrlElicitationRequiredError, type CallToolResult, type ServerNotification, type ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { callDescription, callInputShape, callOutputSchema, type AnyTool, type ApprovalResultView, type CallEnvelope, type ToolContext, type VendorIds } from '../tools/types.js';
import { clientRendersApps } from './apps/capability.js';
import type { Actor } from './audit/audit-log.js';
import { utc, type Requester } from './confirm/approval-page.js';
import { approvalsFor } from './confirm/approvals.js';
import { APPROVAL_META_KEY, inChatApprovalsFor } from './confirm/in-chat.js';
import { ApprovalOutcome, ConfirmationGate, type Confirmation } from './confirm/gate.js';
import type { Deps } from './deps.js';
import { ToolInputError, VendorError } from './errors.js';
import type { JobWork } from './jobs/runner.js';
import { jobOwner, type JobOutcome, type JobRecord } from './jobs/store.js';
import { personOf, personRef } from './person.js';
import { publicErrorText } from './public-error.js';
import { MAX_RESULT_BYTES } from './results.js';
import { collectWarnings, mergeWarnings } from './side-lookup.js';

/**
 * Binds tool definitions to an McpServer: argument validation is the SDK's (zod), and this adds what every
 * tool shares: errors as isError results that say what to do, the result-size limit with a resource link to
 * the complete result, progress notifications, the confirmation gate, the actor for the audit log, and the
 * call protocol (see "Long calls and jobs" and "Confirmation of destructive writes" in the README):
 *
 * - every call answers within the deadline (SALES_ACCESS_CALL_DEADLINE_SECONDS): the tool's work runs as a
 *   job (jobs/runner.ts) and the call waits for it at most until then; unfinished, it answers `running` with
 *   the job's progress, and a call with the same arguments (or the job_id) attaches to the same job;
 * - a destructive call that needs the approval page answers at once `approval_required`, then `pending`,
 *   `declined`, or, once approved, goes through (the gate, confirm/gate.ts);
 * - so every result carries `status` (`done` for the tool's own result), and each tool's registered
 *   outputSchema is its own with the protocol fields added and its fields optional, while `done` results are
 *   still checked against the tool's complete schema (callOutputSchema).
 */
export interface RegisteredTools {
  /** The registered tools by name (the MCP Apps views link some of them, see apps/register.ts). */
  registered: Map<string, RegisteredTool>;
  /** The session a call belongs to: its MCP session id, or this connection (stateless HTTP: the principal). */
  sessionOf(sessionId: string | undefined): string;
}

/**
 * `owner`: stateless HTTP's owner of every call (the authenticated principal): without a session, jobs and
 * approvals belong to who is calling, so a call that lands on another replica finds them.
 */
export function registerTools(server: McpServer, tools: AnyTool[], deps: Deps, baseActor: Actor | undefined, owner?: string): RegisteredTools {
  const vendorIds = deps.registry.map((a) => a.id) as unknown as VendorIds;
  const gate = new ConfirmationGate(
    deps.config.confirm,
    server.server,
    () => deps.clock.now(),
    deps.config.approval.pageAvailable ? { broker: () => approvalsFor(deps), log: deps.log } : undefined,
    { store: () => inChatApprovalsFor(deps), available: () => clientRendersApps(server.server) },
    owner !== undefined,
  );
  // The session of a call without an MCP session id: this connection (stdio: the process has one).
  const connection = `connection:${randomBytes(12).toString('base64url')}`;
  const sessionOf = (sessionId: string | undefined) => owner ?? (sessionId ? `session:${sessionId}` : connection);
  const registered = new Map<string, RegisteredTool>();
  for (const tool of tools) {
    const reg = server.registerTool(
      tool.name,
      definitionOf(tool, deps, vendorIds),
      async (input: unknown, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
        const { job_id: jobId, approval_id: approvalId, ...args } = input as Record<string, unknown> & { job_id?: string; approval_id?: string };
        const client = server.server.getClientVersion();
        const clientText = `${client?.name ?? 'unknown client'} ${client?.version ?? ''}`.trim();
        const person = personOf(extra.authInfo);
        const call: Call = {
          tool,
          args,
          approvalId,
          owner: sessionOf(extra.sessionId),
          actor: person
            ? { kind: 'person', ...person, client: clientText }
            : (baseActor ?? { kind: 'mcp_client', name: client?.name ?? 'unknown', version: client?.version ?? 'unknown' }),
          requester: {
            client: clientText,
            transport: deps.config.transport,
            ...(baseActor?.kind === 'http_token' ? { tokenFingerprint: baseActor.fingerprint } : {}),
            ...(person ? { person: personRef(person) } : {}),
          },
        };
        // The deadline counts from the call's arrival: time queued in a rate limiter is part of it.
        const deadlineAt = deps.clock.now() + deps.config.callDeadlineMs;
        let job: JobRecord | undefined;
        try {
          job = jobId === undefined ? await jobFor(call, deps, gate) : await ownJob(call, jobId, deps);
        } catch (err) {
          return errorResult(err, deps, tool.name);
        }
        const progressToken = extra._meta?.progressToken;
        const unlisten = deps.jobs.listen(job.id, (progress, total, message) => {
          if (progressToken === undefined) return;
          // Best effort: a client that went away must not disturb the work.
          extra
            .sendNotification({ method: 'notifications/progress', params: { progressToken, progress, ...(total === undefined ? {} : { total }), message } })
            .catch((err: unknown) => deps.log.debug({ err: (err as Error)?.message }, 'progress notification not delivered'));
        });
        let seen: JobRecord | undefined;
        try {
          seen = await deps.jobs.store.attach(job.id, deadlineAt, extra.signal);
          if (!seen) return errorResult(new ToolInputError(`The work of this call (job ${job.id}) is no longer known; call ${tool.name} again.`), deps, tool.name);
          if (seen.state === 'running') {
            await deps.jobs.store.update(seen.id, { announced: true });
            return runningResult(tool, (await deps.jobs.view(seen.id)) ?? seen, deps);
          }
          // Delivered: a later call with the same arguments starts afresh. A job nobody was told about is forgotten.
          if (jobId === undefined && !seen.announced) await deps.jobs.store.delete(seen.id);
          else await deps.jobs.store.update(seen.id, { delivered: true });
        } catch (err) {
          // A shared job store (Redis) unreachable: the call says so; the work goes on where it runs.
          return errorResult(err, deps, tool.name);
        } finally {
          unlisten();
        }
        return await withViewNonce(answer(seen.outcome!), call.owner, deps);
      },
    );
    registered.set(tool.name, reg);
  }
  return { registered, sessionOf };
}

interface ToolDefinition {
  title: string;
  description: string;
  inputSchema: ReturnType<typeof callInputShape>;
  outputSchema: ReturnType<typeof callOutputSchema>;
  annotations: AnyTool['annotations'] & { title: string };
}
/** Each tool's registered definition, built once per deps (zod schemas are immutable): stateless HTTP builds a server per request. */
const definitions = new WeakMap<Deps, Map<AnyTool, ToolDefinition>>();

function definitionOf(tool: AnyTool, deps: Deps, vendorIds: VendorIds): ToolDefinition {
  let byTool = definitions.get(deps);
  if (!byTool) {
    byTool = new Map();
    definitions.set(deps, byTool);
  }
  let d = byTool.get(tool);
  if (!d) {
    d = {
      title: tool.title,
      description: callDescription(tool),
      inputSchema: callInputShape(tool, vendorIds, { tokenConfirm: deps.config.confirm === 'token' }),
      outputSchema: callOutputSchema(tool),
      annotations: { title: tool.title, ...tool.annotations },
    };
    byTool.set(tool, d);
  }
  return d;
}

interface Call {
  tool: AnyTool;
  /** The tool's own arguments (without job_id and approval_id). */
  args: Record<string, unknown>;
  approvalId: string | undefined;
  /** The MCP session or connection: jobs and approvals belong to it. */
  owner: string;
  actor: Actor;
  requester: Requester;
}

/**
 * A finished result not yet picked up is handed to a call with the same arguments for this long; after that
 * the call starts afresh (a listing is read again), and the old result is still there by job_id.
 */
const ATTACH_FINISHED_MS = 15 * 60_000;

/** The job this call attaches to (same tool, session and arguments: running, or finished and not picked up), or a new one. */
async function jobFor(call: Call, deps: Deps, gate: ConfirmationGate): Promise<JobRecord> {
  const owner = jobOwner(call.owner);
  const key = digest([call.tool.name, owner, call.args]);
  const found = await deps.jobs.store.byKey(key);
  if (found && (found.finished_at === null || deps.clock.now() - found.finished_at <= ATTACH_FINISHED_MS)) return found;
  // Too old to hand to a new call: it stays retrievable by job_id only.
  if (found) await deps.jobs.store.update(found.id, { delivered: true });
  return deps.jobs.start({
    tool: call.tool.name,
    owner,
    key,
    writes: !call.tool.annotations.readOnlyHint,
    work: (work) => runTool(call, work, deps, gate),
  });
}

/** A job named by `job_id`: only the session that started it, and only through the same tool. */
async function ownJob(call: Call, jobId: string, deps: Deps): Promise<JobRecord> {
  const job = await deps.jobs.view(jobId);
  if (!job || job.owner !== jobOwner(call.owner) || job.tool !== call.tool.name) {
    throw new ToolInputError(
      `No job ${jobId} of ${call.tool.name} in this session (finished jobs are kept a day, and a job belongs to the session that started it). Call ${call.tool.name} without job_id to run it again.`,
    );
  }
  return job;
}

/** The tool's work, as a job: every outcome becomes an answer (a result, or the MCP error to raise). */
async function runTool(call: Call, work: JobWork, deps: Deps, gate: ConfirmationGate): Promise<JobOutcome> {
  const { tool, args } = call;
  let approved: { confirmation: Confirmation; summary: string } | undefined;
  // What an approval is bound to: the tool's own arguments, but not `confirm` (token mode's; never an approval here).
  const { confirm: _confirm, ...bound } = args;
  const binding = digest([tool.name, bound]);
  const progress: ToolContext['progress'] = async (p, total, message, page) => work.report(p, total, message, page);
  const ctx: ToolContext = {
    deps,
    actor: call.actor,
    session: call.owner,
    signal: work.signal,
    progress,
    confirm: async (req) => {
      const c = await gate.confirm(req, { signal: work.signal, progress, requester: call.requester, session: call.owner, binding, approvalId: call.approvalId });
      approved = { confirmation: c, summary: req.summary };
      return c;
    },
    confirmationDetail: () => {
      const a = approved?.confirmation.approval;
      if (a) return { decided_at: a.decided_at, user_agent: a.user_agent };
      const v = approved?.confirmation.inChat;
      return v ? { decided_at: v.decided_at, host: v.host, ...(v.by ? { decided_by: v.by } : {}) } : undefined;
    },
  };
  const page = () => approved?.confirmation.approval;
  try {
    // Side lookups that failed (names, usage counters…) report warnings instead of failing the call.
    const { value, warnings } = await collectWarnings(() => tool.handler(args as never, ctx));
    const structured = value as Record<string, unknown>;
    const warningText = mergeWarnings(tool.outputSchema, structured, warnings);
    // `status` first, then the tool's own fields, then how it was approved (who and how, for the user).
    const approval = approved ? { approval: approvedView(approved.confirmation, approved.summary) } : {};
    const result = await fitResult(tool, { status: 'done' satisfies CallEnvelope['status'], ...structured, ...approval }, deps);
    if (warningText) result.content.push({ type: 'text', text: warningText });
    for (const link of tool.resourceLinks?.(structured as never) ?? []) result.content.push({ type: 'resource_link', ...link });
    // The human can find the page they approved on in the chat (the URL approves nothing by itself).
    const a = page();
    if (a) result.content.push({ type: 'text', text: `Approved by the user on the approval page ${a.url} at ${a.decided_at}.` });
    return { kind: 'result', result };
  } catch (err) {
    if (err instanceof ApprovalOutcome) return { kind: 'result', result: approvalResult(tool, err, deps) };
    if (err instanceof McpError && err.code === ErrorCode.UrlElicitationRequired) {
      return { kind: 'mcp_error', code: err.code, message: err.message, data: err.data };
    }
    const result = errorResult(err, deps, tool.name);
    // A failure after the approval: the human still finds the page they approved on.
    const a = page();
    if (a && !textOf(result.content).includes(a.url)) {
      result.content.push({ type: 'text', text: `This call was approved by the user on the approval page ${a.url} at ${a.decided_at}.` });
    }
    return { kind: 'result', result };
  }
}

/**
 * An in-chat approval request's nonce goes to the view only: in the result's `_meta`, which the host hands to
 * the view and keeps from the model (as it keeps app-only tools), never in the text or structuredContent the
 * model reads. It is added here, when the answer is delivered, so that it is never stored with the job.
 */
async function withViewNonce(result: CallToolResult, owner: string, deps: Deps): Promise<CallToolResult> {
  const sc = result.structuredContent as CallEnvelope | undefined;
  const a = sc?.approval;
  if (!a || a.method !== 'app' || a.id === null || (sc.status !== 'approval_required' && sc.status !== 'pending')) return result;
  const nonce = await inChatApprovalsFor(deps).nonceFor(a.id, owner);
  return nonce === undefined ? result : { ...result, _meta: { ...result._meta, [APPROVAL_META_KEY]: { id: a.id, nonce } } };
}

/** What a finished job answers to the call that picks it up. */
function answer(outcome: JobOutcome): CallToolResult {
  if (outcome.kind === 'result') return outcome.result;
  const data = outcome.data as { elicitations?: unknown[] } | undefined;
  if (outcome.code === ErrorCode.UrlElicitationRequired && data?.elicitations) {
    throw new UrlElicitationRequiredError(data.elicitations as ConstructorParameters<typeof UrlElicitationRequiredError>[0], outcome.message);
  }
  throw new McpError(outcome.code, outcome.message, outcome.data);
}

function approvedView(c: Confirmation, summary: string): ApprovalResultView {
  return {
    id: c.approval?.id ?? null,
    status: 'approved',
    method: c.method,
    url: c.approval?.url ?? null,
    summary,
    expires_at: null,
    decided_at: c.at,
    approved_by: c.by,
  };
}

/** approval_required, pending or declined: a normal result (nothing was changed), with the link and what to call next. */
function approvalResult(tool: AnyTool, o: ApprovalOutcome, deps: Deps): CallToolResult {
  const a = o.approval;
  const again = tool.name === 'execute_offboarding' ? 'with the same plan_id' : 'with the same arguments';
  const inChat = o.method === 'app';
  const structured: CallEnvelope = {
    status: o.status,
    message: o.message,
    approval: {
      id: a.id,
      status: o.status === 'approval_required' ? 'required' : o.status,
      method: o.method,
      url: a.url,
      summary: a.summary,
      expires_at: a.expires_at,
      decided_at: a.decided_at,
      approved_by: null,
    },
    ...(o.status === 'declined'
      ? {}
      : {
          next: {
            tool: tool.name,
            add_arguments: { approval_id: a.id },
            retry_after_seconds: 10,
            instruction: inChat
              ? `The user decides in the view shown with this result (Approve carries it out from there). If they say they decided and the view did not show the outcome, call ${tool.name} again ${again}, adding approval_id "${a.id}". Only the user can approve.`
              : `Show the user the message with the link; when they say they decided, call ${tool.name} again ${again}, adding approval_id "${a.id}". Only the user can approve, on the page; do not open or submit it yourself.`,
          },
        }),
  };
  deps.log.debug({ tool: tool.name, status: o.status, approval: a.id.slice(0, 6) }, 'approval answer');
  return { content: [{ type: 'text', text: textOf(structured) }, { type: 'text', text: o.message }], structuredContent: structured as Record<string, unknown> };
}

/** The answer of a call whose work is not finished at its deadline. */
function runningResult(tool: AnyTool, job: JobRecord, deps: Deps): CallToolResult {
  const now = deps.clock.now();
  const p = job.progress;
  const parts: string[] = [];
  if (p.pages !== null) parts.push(`${p.pages}${p.pages_total === null ? '' : ` of ${p.pages_total}`} pages`);
  else if (p.done !== null) parts.push(`${p.done}${p.total === null ? '' : ` of ${p.total}`} done`);
  if (p.accounts !== null) parts.push(`${p.accounts} accounts`);
  parts.push(`${p.vendor_requests} vendor requests`);
  const finish = p.expected_finish_at === null ? '' : `; expected to finish about ${utc(Date.parse(p.expected_finish_at))}`;
  const seconds = Math.round(deps.config.callDeadlineMs / 1000);
  const structured: CallEnvelope = {
    status: 'running',
    message: `${tool.title} is still running (${parts.join(', ')} so far${finish})${p.message ? `: ${p.message}` : ''}.`,
    job: {
      id: job.id,
      state: job.state,
      started_at: new Date(job.started_at).toISOString(),
      elapsed_seconds: Math.max(0, Math.round((now - job.started_at) / 1000)),
      progress: { done: p.done, total: p.total, pages: p.pages, pages_total: p.pages_total, accounts: p.accounts, vendor_requests: p.vendor_requests, message: p.message },
      expected_finish_at: p.expected_finish_at,
    },
    next: {
      tool: tool.name,
      add_arguments: { job_id: job.id },
      retry_after_seconds: 0,
      instruction: `Call ${tool.name} again with the same arguments (or add job_id "${job.id}") to wait for the result: each call waits up to ${seconds} s, and the work goes on meanwhile without starting over.`,
    },
  };
  return { content: [{ type: 'text', text: textOf(structured) }], structuredContent: structured as Record<string, unknown> };
}

/** SHA-256 of a value as canonical JSON (object keys sorted), so equal arguments in any order match. */
function digest(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(canonical) : v !== null && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])])) : v;
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('base64url');
}

function textOf(value: unknown): string {
  return JSON.stringify(value);
}

/**
 * Keeps a result within MAX_RESULT_BYTES of text. A larger one is stored whole as a resource, and the
 * tool's paged field is cut to the longest prefix that fits, marked `truncated: true`.
 */
export async function fitResult(tool: AnyTool, structured: Record<string, unknown>, deps: Deps): Promise<CallToolResult> {
  const text = textOf(structured);
  if (Buffer.byteLength(text) <= MAX_RESULT_BYTES) {
    return { content: [{ type: 'text', text }], structuredContent: structured };
  }
  const field = tool.pagedField;
  const items = field === undefined ? undefined : structured[field];
  if (field === undefined || !Array.isArray(items)) {
    // A tool without a paged field is expected to stay small; failing loudly beats silently cutting JSON.
    throw new Error(`Result of ${tool.name} exceeds ${MAX_RESULT_BYTES} bytes and the tool declares no paged field.`);
  }
  const saved = await deps.results.save(tool.name, structured);
  const shaped = (n: number) => ({
    ...structured,
    [field]: items.slice(0, n),
    returned: n,
    truncated: true,
    full_result_uri: saved.uri,
  });
  // Measure each item once: the text of a prefix of n items is the empty shape plus the items and n-1 commas.
  const base = Buffer.byteLength(textOf(shaped(0)));
  let n = 0;
  let size = base;
  for (const item of items) {
    const next = size + Buffer.byteLength(textOf(item)) + (n > 0 ? 1 : 0);
    if (next > MAX_RESULT_BYTES) break;
    size = next;
    n += 1;
  }
  // `returned` grows by a digit or two with n; step back in the rare case that tips it over.
  let cut = shaped(n);
  while (n > 0 && Buffer.byteLength(textOf(cut)) > MAX_RESULT_BYTES) cut = shaped(--n);
  return {
    content: [
      { type: 'text', text: textOf(cut) },
      {
        type: 'resource_link',
        uri: saved.uri,
        name: `${tool.name} complete result`,
        mimeType: 'application/json',
        // The server's file path means nothing to (and should not be told to) a remote HTTP client.
        description: `All ${items.length} ${field} (${saved.bytes} bytes); read it with resources/read.${deps.config.transport === 'stdio' && saved.path ? ` Stored at ${saved.path}.` : ''}`,
      },
    ],
    structuredContent: cut,
  };
}

export function errorResult(err: unknown, deps: Deps, toolName: string): CallToolResult {
  let text: string;
  if (err instanceof VendorError) {
    text = err.toPublicText();
    deps.log.warn({ tool: toolName, vendor: err.vendor, status: err.status, code: err.code, detail: err.detail }, 'vendor error');
  } else if (err instanceof ToolInputError) {
    text = err.data === undefined ? err.message : `${err.message}\n${JSON.stringify(err.data)}`;
  } else {
    // Unexpected: keep the internals in the log, give the agent something it can act on.
    deps.log.error({ tool: toolName, err }, 'tool failed');
    // publicErrorText: no server path (an audit-log failure, an fs error) reaches the client; the log has it.
    text = `Internal error in ${toolName}: ${publicErrorText(err, deps.config)}. Nothing further was attempted; the server log has details.`;
  }
  return { content: [{ type: 'text', text }], isError: true };
}
