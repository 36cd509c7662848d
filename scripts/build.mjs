// Bundles the CLI into plain JavaScript (dist/cnnc.mjs and its lazily loaded chunks), so that
// bin/cnnc.js starts without compiling TypeScript (tsx took ~1 s of `cnnc check`'s start-up).
// Writes dist/stamp.json last: the build's start time and the sources it read, which bin/cnnc.js
// compares with their mtimes so that an edited source never runs as stale bundled code.
// Usage: node scripts/build.mjs [--outdir DIR] (default dist; earlier bundle files in it are removed).
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(root, 'dist') } } });
const outdir = resolve(values.outdir);
const builtAt = Date.now();

mkdirSync(outdir, { recursive: true });
for (const name of readdirSync(outdir)) {
  if (name.endsWith('.mjs') || name.endsWith('.mjs.map') || name === 'stamp.json') rmSync(join(outdir, name));
}

// The web bundle's loader is built from its sources when a bundle is exported: the module that
// finds them keeps its own import.meta.url (a bundled one would point into dist/).
const sourceLocation = {
  name: 'source-location',
  setup(b) {
    b.onLoad({ filter: /runtime[\\/]export[\\/]web[\\/]loader-source\.ts$/ }, (args) => ({
      contents: readFileSync(args.path, 'utf8').replaceAll(
        'import.meta.url',
        JSON.stringify(pathToFileURL(args.path).href),
      ),
      loader: 'ts',
    }));
  },
};

const result = await build({
  absWorkingDir: root,
  entryPoints: { cnnc: 'runtime/cli/main.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunk-[hash]',
  // dawn.node is a native addon: it stays a package import, loaded only by the commands that run kernels.
  // esbuild (export --web) finds its native binary from its own package folder.
  external: ['webgpu', 'esbuild'],
  plugins: [sourceLocation],
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});

// Our own sources by their paths; the bundled packages through npm's record of the install.
const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('..') && !p.includes('node_modules/'));
if (existsSync(join(root, 'node_modules', '.package-lock.json'))) inputs.push('node_modules/.package-lock.json');
writeFileSync(join(outdir, 'stamp.json'), `${JSON.stringify({ builtAt, inputs }, null, 1)}\n`);
console.log(`cnnc build: ${outdir} (${inputs.length} sources, ${Date.now() - builtAt} ms)`);
