#!/usr/bin/env node
// Entry point. Runs the bundle that `npm run build` (and `npm run setup`) writes to dist/ (or to
// $CNNC_DIST: the tests build their own) when no source it was built from has changed since the
// build started (its stamp.json lists them: ~90 stats, about a millisecond). Otherwise, or with
// CNNC_FROM_SOURCE=1, it runs the TypeScript sources through tsx: an edited source never runs as
// stale bundled code, it only starts slower (~1 s).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = new URL('../', import.meta.url);
const dist = process.env.CNNC_DIST ? pathToFileURL(`${resolve(process.env.CNNC_DIST)}/`) : new URL('dist/', root);

/** The bundle's URL, or why the sources run instead ('' when asked to). */
function bundle() {
  if (process.env.CNNC_FROM_SOURCE === '1') return { why: '' };
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('stamp.json', dist), 'utf8'));
  } catch {
    return { why: `${fileURLToPath(dist)} has no build` };
  }
  for (const source of stamp.inputs) {
    let mtime;
    try {
      mtime = statSync(new URL(source, root)).mtimeMs;
    } catch {
      mtime = Infinity; // a source the bundle read has gone
    }
    if (mtime > stamp.builtAt) return { why: `${source} changed since the last build` };
  }
  return { href: new URL('cnnc.mjs', dist).href };
}

const { href, why } = bundle();
let main;
if (href) {
  ({ main } = await import(href));
} else {
  if (why && process.stderr.isTTY)
    process.stderr.write(`cnnc: ${why}: running the sources (\`npm run build\` for a fast start)\n`);
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../runtime/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
