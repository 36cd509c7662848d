// The `cnnc export --web` bundle in a plain HTML page in headless chromium (SwiftShader: subgroups
// of 4, so the portable kernels): the page imports index.js from 127.0.0.1, predicts 16
// Fashion-MNIST test images, and gets the probabilities `cnnc predict --json` prints.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  expectInformative,
  expectSameProbabilities,
  exportWeb,
  LENET,
  predictJson,
  seededWeights,
  testImages,
} from '../helpers/web-bundle.ts';
import { type Chromium, launchChromium } from './chromium.ts';

const PAGE = `<!doctype html><title>cnnc bundle</title><link rel="icon" href="data:,"><script type="module">
import { load } from './bundle/index.js';
try {
  const model = await load('./bundle/');
  const x = new Float32Array(await (await fetch('./input.bin')).arrayBuffer());
  const n = x.length / model.inputShape.reduce((a, b) => a * b, 1);
  const probs = await model.predict(x, n);
  model.dispose();
  window.result = { probs: Array.from(probs), inputShape: model.inputShape };
} catch (e) {
  window.result = { error: String(e) };
}
</script>`;

const tmp = mkdtempSync(join(tmpdir(), 'cnnc-web-page-'));
const bundle = join(tmp, 'bundle');
const weights = join(tmp, 'lenet.safetensors');
const input = testImages(16);
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.json': 'application/json', '.wgsl': 'text/plain' };

/** The page at /, the images at /input.bin, the bundle's files under /bundle/. */
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url!, 'http://127.0.0.1').pathname));
  try {
    if (path === '/') {
      res.setHeader('content-type', 'text/html');
      res.end(PAGE);
    } else if (path === '/input.bin') {
      res.end(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
    } else if (path.startsWith('/bundle/')) {
      const body = readFileSync(join(bundle, path.slice('/bundle/'.length)));
      res.setHeader('content-type', TYPES[extname(path)] ?? 'application/octet-stream');
      res.end(body);
    } else {
      res.statusCode = 404;
      res.end();
    }
  } catch {
    res.statusCode = 404;
    res.end();
  }
});
let chromium: Chromium;

beforeAll(async () => {
  seededWeights(LENET, weights, 1);
  exportWeb(LENET, weights, bundle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  chromium = await launchChromium();
});
afterAll(async () => {
  await chromium?.close();
  server.close();
  rmSync(tmp, { recursive: true, force: true });
});

test('a page imports the bundle and predicts as cnnc predict --json does', async () => {
  const want = predictJson(LENET, weights, 16);
  expectInformative(want, 10);
  const { port } = server.address() as AddressInfo;
  const { page, errors } = await chromium.open(`http://127.0.0.1:${port}/`);
  await page.waitForFunction('window.result !== undefined', { timeout: 120_000 });
  const result = (await page.evaluate('window.result')) as { probs?: number[]; inputShape?: number[]; error?: string };
  expect(result.error).toBeUndefined();
  expect(errors).toEqual([]);
  expect(result.inputShape).toEqual([1, 28, 28]);
  expectSameProbabilities(result.probs!, want, 10);
});
