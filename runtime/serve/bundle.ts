// The playground's script: web/playground/ bundled for the browser by esbuild. `npm run build`
// writes it beside the CLI's bundle (dist/playground.js); run from the sources, it is bundled here.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export async function playgroundScript(): Promise<string> {
  const built = new URL('./playground.js', import.meta.url);
  if (existsSync(built)) return readFileSync(built, 'utf8');
  const { build } = await import('esbuild');
  const result = await build({
    // As scripts/build.mjs builds it.
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    entryPoints: [fileURLToPath(new URL('../../web/playground/main.ts', import.meta.url))],
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
