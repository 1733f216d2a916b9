import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The secrets regression search: distinctive sentinel values, and a search for them in clear, URL-encoded
 * and base64 (standard and URL-safe, at every byte alignment, so a sentinel inside a larger encoded value
 * such as a Basic credential is found too).
 */

/**
 * A distinctive value for `name`: letters and digits around `+`, `/` and `.`, so URL-encoding and base64
 * differ from the clear form and each is searched for. Valid wherever a secret is (no whitespace, header-safe).
 */
export function sentinel(name: string, opts: { plain?: boolean } = {}): string {
  const tag = name.replace(/[^A-Za-z]/g, '').slice(0, 12);
  const core = `SNTNL${tag}${randomBytes(12).toString('hex')}`;
  return opts.plain ? core : `${core.slice(0, 14)}+${core.slice(14, 26)}/${core.slice(26)}.x`;
}

/** The forms a secret could take in a file or a message. */
export function needles(secret: string): { form: string; text: string }[] {
  const out = [
    { form: 'clear', text: secret },
    { form: 'url-encoded', text: encodeURIComponent(secret) },
    { form: 'form-encoded', text: new URLSearchParams({ x: secret }).toString().slice(2) },
  ];
  for (let pad = 0; pad < 3; pad++) {
    const b64 = Buffer.from('\0'.repeat(pad) + secret, 'utf8').toString('base64').replace(/=+$/, '');
    // Drop the quartets the padding or the following bytes share with the secret's first and last bytes.
    const inner = b64.slice(pad === 0 ? 0 : 4, b64.length - 4);
    if (inner.length >= 16) {
      out.push({ form: `base64(+${pad})`, text: inner });
      out.push({ form: `base64url(+${pad})`, text: inner.replace(/\+/g, '-').replace(/\//g, '_') });
    }
  }
  return out;
}

export interface Haystack {
  where: string;
  text: string;
}

/** Every file under `dir` (recursively) as a haystack, named by its path relative to `dir`. */
export function filesUnder(dir: string, label = dir): Haystack[] {
  const out: Haystack[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${rel}/${name}`);
      else if (st.isFile()) out.push({ where: `${label}${rel}/${name}`, text: readFileSync(p).toString('latin1') });
    }
  };
  walk(dir, '');
  return out;
}

/** Each (secret, place, form) where a secret shows; empty when none does. */
export function findLeaks(secrets: Record<string, string>, haystacks: Haystack[]): string[] {
  const hits: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    for (const n of needles(value)) {
      for (const h of haystacks) if (h.text.includes(n.text)) hits.push(`${name} in ${h.where} (${n.form})`);
    }
  }
  return [...new Set(hits)];
}
