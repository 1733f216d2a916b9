import { App, applyDocumentTheme, applyHostStyleVariables, type McpUiHostContext } from '@modelcontextprotocol/ext-apps';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * What both in-chat views share: the connection to the host (the ext-apps App over postMessage), the host's
 * theme and style variables, and DOM building that never parses a string as HTML. Vendor values (names,
 * titles, emails) are attacker-controlled: they only ever reach the page as text nodes or attribute values.
 */

type Child = Node | string | number | null | undefined | false;

/** An element with attributes and children; strings become text nodes (never markup). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c);
  return e;
}

export function fmtNumber(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function applyContext(ctx: McpUiHostContext | undefined): void {
  if (!ctx) return;
  if (ctx.theme) applyDocumentTheme(ctx.theme);
  if (ctx.styles?.variables) applyHostStyleVariables(ctx.styles.variables);
}

export interface ViewHandlers {
  input?(args: Record<string, unknown>): void;
  result(result: CallToolResult): void;
  cancelled?(reason: string | undefined): void;
}

/** Connects to the host; the handlers are set before the handshake so no notification is missed. */
export async function connect(name: string, root: HTMLElement, h: ViewHandlers): Promise<App> {
  const app = new App({ name, version: '1' }, {}, { autoResize: true });
  app.onhostcontextchanged = (ctx) => applyContext(ctx as McpUiHostContext);
  app.ontoolinput = (p) => h.input?.((p.arguments ?? {}) as Record<string, unknown>);
  app.ontoolresult = (r) => h.result(r as CallToolResult);
  app.ontoolcancelled = (p) => h.cancelled?.(p.reason);
  try {
    await app.connect();
    applyContext(app.getHostContext());
  } catch (err) {
    root.replaceChildren(el('p', { class: 'error' }, `Could not connect to the host: ${(err as Error).message}`));
  }
  return app;
}

/** The text of a tool result, for an error message. */
export function textOf(r: CallToolResult): string {
  return r.content
    .map((c) => (c.type === 'text' ? c.text : ''))
    .join('\n')
    .trim();
}

/** Calls a server tool through the host; an error result or a failed call becomes an Error with its text. */
export async function callTool<T>(app: App, name: string, args: Record<string, unknown>): Promise<T & { _result: CallToolResult }> {
  const r = (await app.callServerTool({ name, arguments: args })) as CallToolResult;
  if (r.isError) throw new Error(textOf(r) || `${name} failed`);
  return { ...(r.structuredContent as T), _result: r };
}

export function badge(text: string, cls: string): HTMLSpanElement {
  return el('span', { class: `badge ${cls}` }, text);
}
