/// <reference lib="dom" />
// DOM types for the functions that run in the page (page.evaluate and friends).
// The playground (`cnnc serve`) in headless chromium against the CLI: the page's diagnostics, its
// kernels and its training steps equal what the CLI gives for the same model, and the curves show
// in a screenshot after training. The server runs as a child process, as a user starts it.
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElementHandle, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readCheckpoint } from '../../runtime/train/checkpoint.ts';
import { cnnc, root } from '../helpers/cli.ts';
import { type Chromium, launchChromium } from './chromium.ts';

const LENET = 'dsl-examples/lenet.cnn';
const dir = mkdtempSync(join(tmpdir(), 'cnnc-playground-'));
let server: ChildProcess;
let chromium: Chromium;
let page: Page;
let errors: string[];

/** Starts `cnnc serve FILE --port 0` and returns the URL it prints. */
function serve(file: string): Promise<string> {
  server = spawn(process.execPath, [join(root, 'bin', 'cnnc.js'), 'serve', file, '--port', '0'], {
    cwd: root,
    env: { ...process.env, CNNC_DIST: inject('cnncDist') },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0];
      if (url) resolve(url);
    });
    server.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    server.on('exit', (code) => reject(new Error(`cnnc serve exited with ${code}:\n${out}`)));
  });
}

beforeAll(async () => {
  const url = await serve(LENET);
  chromium = await launchChromium();
  ({ page, errors } = await chromium.open(url));
  await page.setViewport({ width: 1400, height: 1000 });
  await page.waitForSelector('body[data-ready]', { timeout: 120_000 });
});
afterAll(async () => {
  await chromium?.close();
  server?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

/** Types `text` into the editor and waits for the page to analyse it. */
async function edit(text: string): Promise<void> {
  const before = await page.$eval('body', (b) => Number(b.dataset['analysed']));
  await page.$eval(
    '#source',
    (area, t) => {
      (area as HTMLTextAreaElement).value = t;
      area.dispatchEvent(new Event('input'));
    },
    text,
  );
  await page.waitForFunction((n) => Number(document.body.dataset['analysed']) > n, { timeout: 60_000 }, before);
}

/** `file:line:col: severity[CODE]: message` lines, the file left out (the page's file is the served one). */
const located = (text: string): string[] =>
  [...text.matchAll(/^.*?:(\d+):(\d+): ((?:error|warning)\[E\d+\]: .*)$/gm)].map((m) => `${m[1]}:${m[2]} ${m[3]}`);

describe('cnnc serve: the playground in chromium', () => {
  it("underlines the CLI's diagnostics for broken models: code, line, column, message", async () => {
    const broken = [
      'model B {\n  input [1, 28, 28]\n  conv(6, kernel = 5) relu @\n  flatten linear(10)\n}\n',
      'model B {\n  input [1, 28, 28]\n  conv(6, kernel = 5) relu\n  dense(4)\n}\n',
      'model B {\n  input [1, 8, 8]\n  conv(2, kernel = 3, stride = 0) relu\n  flatten linear(4)\n}\n',
      'model B {\n  input [1, 8, 8]\n  conv(2, kernel = 3, foo = 1)\n}\n',
    ];
    for (const [i, text] of broken.entries()) {
      const file = join(dir, `broken${i}.cnn`);
      writeFileSync(file, text);
      const cli = cnnc('check', file);
      expect(cli.code).toBe(1);
      const want = located(cli.stderr);
      expect(want.length, cli.stderr).toBeGreaterThan(0);
      await edit(text);
      const shown = await page.$$eval('#diagnostics li', (lis) => lis.map((li) => li.textContent ?? ''));
      expect(located(shown.join('\n'))).toEqual(want);
      // Each is underlined in the editor's copy of the text.
      expect(await page.$$eval('#highlight .squiggle.error', (s) => s.length)).toBeGreaterThan(0);
    }
  });

  it('shows the WGSL `cnnc kernels` prints for LeNet, forward and training step', async () => {
    await edit(readFileSync(join(root, LENET), 'utf8'));
    const kernels = (pass: string) =>
      page.$$eval(`pre.kernel[data-pass="${pass}"]`, (pres) => pres.map((p) => p.textContent ?? '').join('\n'));
    const forward = cnnc('kernels', LENET);
    const backward = cnnc('kernels', LENET, '--backward');
    expect(forward.code).toBe(0);
    expect(backward.code, backward.stderr).toBe(0);
    expect(await kernels('forward')).toBe(forward.stdout);
    expect(await kernels('train')).toBe(backward.stdout);
    // Every kernel header links back to its layer's line.
    const links = await page.$$eval('.kernel-head a[data-location]', (as) => as.map((a) => a.dataset['location']));
    expect(links).toContain(`${LENET}:17:3`);
    // The summary table: a row per layer of `cnnc summary`, between the header and the total.
    const summary = JSON.parse(cnnc('summary', LENET, '--json').stdout) as { layers: unknown[] };
    expect(await page.$$eval('#summary tr', (rows) => rows.length)).toBe(summary.layers.length + 2);
  });

  it('trains five steps from the same --init to the CLI losses (1e-4), and draws the curves', async () => {
    const init = join(dir, 'init.safetensors');
    expect(cnnc('train', LENET, '--steps', '1', '--seed', '3', '--val-limit', '8', '--save', init).code).toBe(0);
    const saved = join(dir, 'cli.safetensors');
    const cli = cnnc('train', LENET, '--init', init, '--steps', '5', '--val-limit', '16', '--save', saved);
    expect(cli.code, cli.stderr).toBe(0);
    const want = (
      JSON.parse(readCheckpoint(join(dir, 'cli.optim.safetensors')).metadata['step_history']!) as {
        trainLoss: number;
      }[]
    ).map((p) => p.trainLoss);
    expect(want).toHaveLength(5);

    await page.type('#steps', '5');
    await page.type('#val-limit', '16');
    const input = (await page.$('#init')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(init);
    await page.click('#train');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset['training'] ?? ''), {
      timeout: 540_000,
    });
    const log = await page.$eval('#log', (l) => l.textContent);
    expect(await page.$eval('body', (b) => b.dataset['training']), log ?? '').toBe('done');
    const got = JSON.parse(await page.$eval('#plot', (c) => (c as HTMLElement).dataset['stepLosses']!)) as number[];
    expect(got).toHaveLength(5);
    got.forEach((loss, i) =>
      expect(Math.abs(loss - want[i]!), `step ${i + 1}: ${loss} vs ${want[i]}`).toBeLessThan(1e-4),
    );
    // Predictions: 16 test images, each with its top 3.
    expect(await page.$$eval('.prediction', (p) => p.map((d) => d.querySelectorAll('div').length))).toEqual(
      new Array(16).fill(3),
    );
    expect(await page.$eval('#save', (a) => (a as HTMLAnchorElement).download)).toBe('LeNet.safetensors');

    // The screenshot shows the curves: coloured pixels (the series' colours) inside the plot's box.
    const shot = join(dir, 'playground.png');
    await page.screenshot({ path: shot });
    if (process.env['CNNC_PLAYGROUND_PNG']) copyFileSync(shot, process.env['CNNC_PLAYGROUND_PNG']);
    const box = await page.$eval('#plot', (c) => {
      const r = c.getBoundingClientRect();
      return { x: r.x, y: r.y, width: r.width, height: r.height };
    });
    expect(box.width).toBeGreaterThan(100);
    const coloured = await page.evaluate(
      async (png, b) => {
        const img = new Image();
        img.src = `data:image/png;base64,${png}`;
        await img.decode();
        const canvas = new OffscreenCanvas(b.width, b.height);
        const ctx = canvas.getContext('2d')!;
        ctx.drawImage(img, b.x, b.y, b.width, b.height, 0, 0, b.width, b.height);
        const d = ctx.getImageData(0, 0, b.width, b.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
          if (Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!) > 60) n++;
        return n;
      },
      readFileSync(shot).toString('base64'),
      box,
    );
    expect(coloured).toBeGreaterThan(200);
    expect(errors).toEqual([]);
  });

  it('stops training inside the epoch at the stop button', async () => {
    await page.$eval('#steps', (i) => {
      (i as HTMLInputElement).value = '';
    });
    await page.click('#train');
    await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('training LeNet'), {
      timeout: 120_000,
    });
    await page.click('#stop');
    await page.waitForFunction(() => ['done', 'failed'].includes(document.body.dataset['training'] ?? ''), {
      timeout: 300_000,
    });
    expect(await page.$eval('body', (b) => b.dataset['training'])).toBe('done');
    const steps = JSON.parse(await page.$eval('#plot', (c) => (c as HTMLElement).dataset['stepLosses']!)) as number[];
    // An epoch is 469 steps: it stopped well before the end, after at least one.
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.length).toBeLessThan(469);
    expect(errors).toEqual([]);
  });
});
