// Training curves: the SVG holds one polyline per curve with one point per epoch and the legend;
// the PNG is a well-formed file (signature, IHDR, CRCs, IDAT inflating to the declared raster).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { renderSvg, StepCurve, type CurvePoint } from '../../runtime/train/plot.ts';
import { renderPng, writePlot } from '../../runtime/train/plot-file.ts';

const history: CurvePoint[] = [1, 2, 3, 4, 5].map((epoch) => ({
  epoch,
  trainLoss: 2 / epoch,
  valLoss: 2.2 / epoch,
  valAcc: 0.5 + 0.05 * epoch,
}));

function polylines(svg: string): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  for (const m of svg.matchAll(/<polyline class="(\w+)" points="([^"]*)"/g)) {
    out.set(
      m[1]!,
      m[2]!.split(' ').map((p) => p.split(',').map(Number)),
    );
  }
  return out;
}

/** The PNG's chunks in order, each CRC checked against node:zlib's crc32 (the encoder has its own). */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('ascii', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    expect(png.readUInt32BE(at + 8 + length)).toBe(crc32(png.subarray(at + 4, at + 8 + length)));
    at += 12 + length;
  }
  return out;
}

describe('training curves', () => {
  it('draws train_loss, val_loss and val_acc as polylines with one point per epoch, and a legend', () => {
    const svg = renderSvg(history);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const lines = polylines(svg);
    expect([...lines.keys()]).toEqual(['train_loss', 'val_loss', 'val_acc']);
    for (const points of lines.values()) {
      expect(points).toHaveLength(5);
      points.forEach(([x, y]) => expect(Number.isFinite(x) && Number.isFinite(y)).toBe(true));
      // Epochs run left to right.
      expect(points.map((p) => p[0]!)).toEqual([...points.map((p) => p[0]!)].sort((a, b) => a - b));
    }
    for (const label of ['train_loss', 'val_loss', 'val_acc', 'epoch']) expect(svg).toContain(`>${label}</text>`);
    expect(new Set([...svg.matchAll(/<polyline[^>]*stroke="(#[0-9a-f]{6})"/g)].map((m) => m[1])).size).toBe(3);
    // Balanced tags: every opened element is closed or self-closing.
    const opened = (svg.match(/<(?!\/)[a-z]+[^>]*[^/]>/g) ?? []).length;
    expect((svg.match(/<\/[a-z]+>/g) ?? []).length).toBe(opened);
  });

  it('leaves out the validation curves when there is no validation data', () => {
    const lines = polylines(renderSvg(history.map((p) => ({ ...p, valLoss: null, valAcc: null }))));
    expect([...lines.keys()]).toEqual(['train_loss']);
  });

  it('encodes a valid PNG of the declared size', () => {
    const png = renderPng(history);
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const cs = chunks(png);
    expect(cs.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'IEND']);
    const ihdr = cs[0]!.data;
    const [width, height] = [ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)];
    expect([width, height]).toEqual([640, 400]);
    expect([...ihdr.subarray(8)]).toEqual([8, 6, 0, 0, 0]);
    const raw = inflateSync(cs[1]!.data);
    expect(raw.length).toBe(height * (1 + width * 4));
    // Every scanline uses filter 0, and the curves put colour (neither white nor grey) in the raster.
    for (let y = 0; y < height; y++) expect(raw[y * (1 + width * 4)]).toBe(0);
    let coloured = 0;
    for (let i = 1; i < raw.length; i += 4) if (raw[i] !== raw[i + 1] || raw[i + 1] !== raw[i + 2]) coloured++;
    expect(coloured).toBeGreaterThan(500);
  });

  it('writes FILE.svg and FILE.png, leaving no temporary files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-plot-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    writePlot(join(dir, 'curves.svg'), history);
    expect(readdirSync(dir).sort()).toEqual(['curves.png', 'curves.svg']);
    expect(readFileSync(join(dir, 'curves.svg'), 'utf8')).toBe(renderSvg(history));
    expect(existsSync(join(dir, 'curves.png'))).toBe(true);
  });
});

describe('train_loss per group of steps (StepCurve)', () => {
  it('groups each epoch into about 50 points, ending at fractional epochs; a group never spans two epochs', () => {
    // 469 batches an epoch (Fashion-MNIST at 128): groups of 10, the last of 9.
    const c = new StepCurve(469, null);
    c.add(
      1,
      469,
      0,
      Array.from({ length: 469 }, (_, i) => (i < 10 ? 2 : 1)),
    );
    c.add(2, 469, 0, [3, 5]);
    c.flush();
    expect(c.points).toHaveLength(48);
    expect(c.points[0]).toEqual({ epoch: 10 / 469, trainLoss: 2 });
    expect(c.points[1]).toEqual({ epoch: 20 / 469, trainLoss: 1 });
    expect(c.points[46]).toEqual({ epoch: 1, trainLoss: 1 });
    expect(c.points[47]).toEqual({ epoch: 1 + 2 / 469, trainLoss: 4 });
    expect(c.points.map((p) => p.epoch)).toEqual([...c.points.map((p) => p.epoch)].sort((a, b) => a - b));
  });

  it('takes the losses in pieces (one readback each) as it would whole', () => {
    const losses = Array.from({ length: 30 }, (_, i) => Math.sin(i) + 2);
    const whole = new StepCurve(30, null);
    whole.add(1, 30, 0, losses);
    whole.flush();
    const pieces = new StepCurve(30, null);
    for (const [from, to] of [
      [0, 7],
      [7, 8],
      [8, 30],
    ] as const)
      pieces.add(1, 30, from, losses.slice(from, to));
    pieces.flush();
    expect(pieces.points).toEqual(whole.points);
    expect(whole.points).toHaveLength(30);
  });

  it('with --steps K, one point per step up to 50 steps, and continues the points of a saved run', () => {
    const c = new StepCurve(469, 5, [{ epoch: 1 / 469, trainLoss: 2.3 }]);
    c.add(1, 469, 1, [2.2, 2.1]);
    c.flush();
    expect(c.points.map((p) => p.epoch)).toEqual([1 / 469, 2 / 469, 3 / 469]);
    expect(new StepCurve(469, 500, []).points).toEqual([]);
  });

  it('draws them as the train_loss line, with val points per epoch, on a fractional axis for a short run', () => {
    const steps = [1, 2, 3, 4, 5].map((k) => ({ epoch: k / 469, trainLoss: 2.3 - k / 100 }));
    const partial: CurvePoint = { epoch: 5 / 469, trainLoss: 2.27, valLoss: 2.29, valAcc: 0.1 };
    const svg = renderSvg([partial], steps);
    const lines = polylines(svg);
    expect(lines.get('train_loss')).toHaveLength(5);
    expect(lines.get('val_loss')).toHaveLength(1);
    // The val point is where the last step point is: both at 5/469 of an epoch.
    expect(lines.get('val_loss')![0]![0]).toBe(lines.get('train_loss')![4]![0]);
    // The axis spans the run (0.015 epochs), not a whole epoch: the points spread over the width.
    const xs = lines.get('train_loss')!.map((p) => p[0]!);
    expect(xs.at(-1)! - xs[0]!).toBeGreaterThan(200);
    expect(svg).toContain('>0.005</text>');
    // Over whole epochs, the step line and per-epoch val points share the epoch axis.
    const long = renderSvg(
      history,
      [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5].map((epoch) => ({ epoch, trainLoss: 2 / epoch })),
    );
    expect(polylines(long).get('train_loss')).toHaveLength(10);
    expect(polylines(long).get('val_acc')).toHaveLength(5);
    expect(polylines(long).get('train_loss')!.at(-1)![0]).toBe(polylines(long).get('val_acc')!.at(-1)![0]);
    expect(renderPng(history, [{ epoch: 0.5, trainLoss: 1 }]).length).toBeGreaterThan(0);
  });
});
