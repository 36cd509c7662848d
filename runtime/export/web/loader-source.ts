// The bundle's index.js: loader.ts and what it imports as one ES module, built by esbuild when a
// bundle is exported. Built from the sources each time (a few milliseconds), so index.js is always
// the loader in the tree; scripts/build.mjs keeps this file's import.meta.url pointing at the
// sources when it bundles the CLI into dist/.
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const LOADER = fileURLToPath(new URL('./loader.ts', import.meta.url));

export function loaderSource(): string {
  const result = buildSync({
    entryPoints: [LOADER],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    // Imported by the loader only under Node, to read a bundle from a path.
    external: ['node:*'],
    write: false,
    logLevel: 'silent',
    banner: {
      js: "// A cnnc export --web bundle: load(baseUrl) reads model.json, kernels/*.wgsl and weights.bin beside this file.\n// Built by esbuild from cnnc's runtime/export/web/loader.ts; needs only WebGPU (navigator.gpu).",
    },
  });
  return result.outputFiles[0]!.text;
}
