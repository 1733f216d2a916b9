import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { AppBridge, type HostOptions } from '@modelcontextprotocol/ext-apps/app-bridge';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';

/**
 * A test host for the in-chat views: the SDK's host side of MCP Apps (AppBridge, with the test's MCP client,
 * so the view's tools/call reach the real server) in Node, and the view in a sandboxed iframe (scripts only,
 * no same-origin) of a blank page in headless Chromium. postMessage between the two is relayed through the
 * page: the view's messages to its parent go to Node, Node's go to the iframe's window.
 */

/** Chromium as the other browser tests launch it. */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

class PageTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  constructor(private readonly page: Page) {}
  async start(): Promise<void> {}
  async send(message: JSONRPCMessage): Promise<void> {
    // Browser-side code as a string: the project compiles without the DOM library.
    await this.page.evaluate(`document.getElementById('view').contentWindow.postMessage(${JSON.stringify(message)}, '*')`);
  }
  async close(): Promise<void> {
    this.onclose?.();
  }
}

export interface MountedView {
  page: Page;
  frame: FrameLocator;
  bridge: AppBridge;
  /** Console errors, page errors and CSP violations of the host page and the view. */
  problems: string[];
  /** Requests the page made beyond the blank host page (a self-contained view makes none). */
  requests: string[];
  /** What the view told the model through ui/update-model-context. */
  modelContext: string[];
  /** The resources the view asked the host to save (ui/download-file), by URI. */
  downloads: string[];
  close(): Promise<void>;
}

export interface MountOptions {
  theme: 'light' | 'dark';
  /** The chat column's width in CSS pixels. */
  width?: number;
  height?: number;
}

/** Mounts `html` in a fresh browser context, connects the bridge and delivers the tool's input and result. */
export async function mountView(browser: Browser, client: Client, html: string, tool: { name: string; args: Record<string, unknown>; result: CallToolResult }, opts: MountOptions): Promise<MountedView> {
  const width = opts.width ?? 420;
  const context: BrowserContext = await browser.newContext({ viewport: { width: width + 20, height: opts.height ?? 900 }, deviceScaleFactor: 1, colorScheme: opts.theme });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('about:') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  const transport = new PageTransport(page);
  await page.exposeFunction('__toHost', (msg: JSONRPCMessage) => transport.onmessage?.(msg));
  const background = opts.theme === 'dark' ? '#1f2023' : '#ffffff';
  await page.setContent(
    `<!doctype html><html><body style="margin:10px;background:${background}"><iframe id="view" sandbox="allow-scripts" style="width:${width}px;height:${(opts.height ?? 900) - 20}px;border:0"></iframe></body></html>`,
  );
  await page.evaluate(
    "window.__csp = []; window.addEventListener('message', (e) => { if (e.source === document.getElementById('view').contentWindow) window.__toHost(e.data); });",
  );

  const hostContext: NonNullable<HostOptions['hostContext']> = { theme: opts.theme, displayMode: 'inline', platform: 'desktop', containerDimensions: { maxWidth: width }, locale: 'en-US' };
  const bridge = new AppBridge(client, { name: 'test-host', version: '1.0.0' }, { serverTools: {}, serverResources: {}, updateModelContext: { text: {} }, downloadFile: {} }, { hostContext });
  const modelContext: string[] = [];
  bridge.onupdatemodelcontext = async (p) => {
    for (const c of p.content ?? []) if (c.type === 'text') modelContext.push(c.text);
    return {};
  };
  const downloads: string[] = [];
  bridge.ondownloadfile = async (p) => {
    for (const c of p.contents) downloads.push(c.type === 'resource_link' ? c.uri : c.resource.uri);
    return {};
  };
  const initialized = new Promise<void>((resolve) => {
    bridge.oninitialized = () => resolve();
  });
  await bridge.connect(transport);
  await page.evaluate(`document.getElementById('view').srcdoc = ${JSON.stringify(html)};`);
  await initialized;
  await bridge.sendToolInput({ arguments: tool.args });
  await bridge.sendToolResult(tool.result);
  const frame = page.frameLocator('#view');
  return {
    page,
    frame,
    bridge,
    problems,
    requests,
    modelContext,
    downloads,
    async close() {
      await context.close();
    },
  };
}
