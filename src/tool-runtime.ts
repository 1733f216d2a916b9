import { setMaxListeners } from 'node:events';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { inputShape, type AnyTool, type ToolContext, type VendorIds } from '../tools/types.js';
import type { Actor } from './audit/audit-log.js';
import type { Requester } from './confirm/approval-page.js';
import { approvalsFor } from './confirm/approvals.js';
import { ConfirmationGate, type Confirmation } from './confirm/gate.js';
import type { Deps } from './deps.js';
import { ToolInputError, VendorError } from './http/errors.js';
import { publicErrorText } from './public-error.js';
import { MAX_RESULT_BYTES } from './results.js';
import { collectWarnings, mergeWarnings } from './side-lookup.js';

/**
 * Binds tool definitions to an McpServer: argument validation is the SDK's (zod), and this adds what every
 * tool shares: errors as isError results that say what to do, the result-size limit with a resource link to
 * the complete result, progress notifications, the confirmation gate and the actor for the audit log.
 */
export function registerTools(server: McpServer, tools: AnyTool[], deps: Deps, baseActor: Actor | undefined): void {
  const vendorIds = deps.registry.map((a) => a.id) as unknown as VendorIds;
  const gate = new ConfirmationGate(
    deps.config.confirm,
    server.server,
    () => deps.clock.now(),
    deps.config.approval.pageAvailable ? { broker: () => approvalsFor(deps), timeoutMs: deps.config.approval.timeoutMs } : undefined,
  );
  for (const tool of tools) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: inputShape(tool, vendorIds),
        outputSchema: tool.outputSchema,
        annotations: { title: tool.title, ...tool.annotations },
      },
      async (args: unknown, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
        const progressToken = extra._meta?.progressToken;
        // Every vendor request queued by this call listens on its one abort signal; a review queues dozens.
        setMaxListeners(0, extra.signal);
        const client = server.server.getClientVersion();
        const actor: Actor = baseActor ?? { kind: 'mcp_client', name: client?.name ?? 'unknown', version: client?.version ?? 'unknown' };
        const requester: Requester = {
          client: `${client?.name ?? 'unknown client'} ${client?.version ?? ''}`.trim(),
          transport: deps.config.transport,
          ...(baseActor?.kind === 'http_token' ? { tokenFingerprint: baseActor.fingerprint } : {}),
        };
        // The browser approval of this call, if any: its audit lines record when and by which browser.
        let approved: Confirmation['approval'];
        const progress: ToolContext['progress'] = async (progress, total, message) => {
          if (progressToken === undefined) return;
          // A client that went away must not abort the work in flight (an offboarding half done, its plan
          // stranded): progress is best effort.
          await extra
            .sendNotification({
              method: 'notifications/progress',
              params: { progressToken, progress, ...(total === undefined ? {} : { total }), message },
            })
            .catch((err: unknown) => deps.log.debug({ err: (err as Error)?.message }, 'progress notification not delivered'));
        };
        const ctx: ToolContext = {
          deps,
          confirmationDetail: () => (approved ? { decided_at: approved.decided_at, user_agent: approved.user_agent } : undefined),
          actor,
          signal: extra.signal,
          confirm: async (req) => {
            const c = await gate.confirm(req, { signal: extra.signal, progress, requester });
            if (c.approval) approved = c.approval;
            return c;
          },
          progress,
        };
        try {
          // Side lookups that failed (names, usage counters…) report warnings instead of failing the call.
          const { value, warnings } = await collectWarnings(() => tool.handler(args as never, ctx));
          const structured = value as Record<string, unknown>;
          const warningText = mergeWarnings(tool.outputSchema, structured, warnings);
          const result = await fitResult(tool, structured, deps);
          if (warningText) result.content.push({ type: 'text', text: warningText });
          for (const link of tool.resourceLinks?.(structured as never) ?? []) result.content.push({ type: 'resource_link', ...link });
          // The human can find the page they approved on in the chat (the URL approves nothing by itself).
          if (approved) result.content.push({ type: 'text', text: `Approved by the user on the approval page ${approved.url} at ${approved.decided_at}.` });
          return result;
        } catch (err) {
          const result = errorResult(err, deps, tool.name);
          // A failure after the approval: the human still finds the page they approved on.
          if (approved && !textOf(result.content).includes(approved.url)) {
            result.content.push({ type: 'text', text: `This call was approved by the user on the approval page ${approved.url} at ${approved.decided_at}.` });
          }
          return result;
        }
      },
    );
  }
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
        description: `All ${items.length} ${field} (${saved.bytes} bytes); read it with resources/read.${deps.config.transport === 'stdio' ? ` Stored at ${saved.path}.` : ''}`,
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
