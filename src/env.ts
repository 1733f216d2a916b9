import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * Reading the environment: the helpers every configuration section uses (the server's own in config.ts and
 * each vendor adapter's). A leaf module: it imports nothing of the project, so vendor folders can read their
 * variables without importing config.ts (which imports the adapter registry).
 *
 * Every problem is a ConfigError whose message names the variable to fix and never contains its value.
 */

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A required http(s) URL variable (with a default), without credentials and without a trailing slash. */
export function url(env: Env, name: string, fallback?: string): string {
  const raw = env[name] ?? fallback;
  if (raw === undefined || raw === '') throw new ConfigError(`${name} is required.`);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a valid URL; expected e.g. ${fallback ?? 'https://…'}.`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') {
    throw new ConfigError(`${name} must be an http(s) URL.`);
  }
  // Tokens and keys travel to these URLs: plain http only to this machine (a sandbox or a local proxy).
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname)) {
    throw new ConfigError(`${name} must use https:// (plain http is accepted only for 127.0.0.1 or localhost), since credentials are sent to it.`);
  }
  if (u.username || u.password) throw new ConfigError(`${name} must not carry credentials in the URL.`);
  return raw.replace(/\/+$/, '');
}

/** An optional URL variable without a default (e.g. a tenant-specific SCIM URL). */
export function optionalUrl(env: Env, name: string): string | undefined {
  return env[name] ? url(env, name) : undefined;
}

export function positiveInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) <= 0) throw new ConfigError(`${name} must be a positive integer.`);
  return Number(raw);
}

/** Non-negative integer variable (0 allowed), unlike positiveInt. */
export function nonNegativeInt(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number (0 or more).`);
  return Number(raw);
}

/** A fraction from 0 to `max`, written as a decimal ("0.2"). */
export function fraction(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim();
  if (!/^(0|0?\.\d+|1|1\.0+)$/.test(v) || Number(v) > max) {
    throw new ConfigError(`${name} must be a decimal fraction from 0 to ${max}, e.g. 0.2 (20% of the budget left to other integrations).`);
  }
  return Number(v);
}

/** A secret must be non-empty and free of whitespace; the message names the variable, never the value. */
export function secret(env: Env, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (/\s/.test(raw)) throw new ConfigError(`${name} contains whitespace; paste the value without spaces or newlines.`);
  return raw;
}

/** A non-secret identifier such as an OAuth client id: trimmed, and refused when it contains whitespace. */
export function identifier(env: Env, name: string): string | undefined {
  const v = env[name]?.trim() || undefined;
  if (v !== undefined && /\s/.test(v)) throw new ConfigError(`${name} contains whitespace; paste the value without spaces or newlines.`);
  return v;
}

export function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function defaultStateDir(env: Env): string {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(homedir(), '.local', 'state');
  return join(base, 'sales-access-mcp');
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}
