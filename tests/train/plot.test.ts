// Training curves: the SVG holds one polyline per curve with one point per epoch and the legend;
// the PNG is a well-formed file (signature, IHDR, CRCs, IDAT inflating to the declared raster).
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { describe, expect, it, onTestFinished } from 'vitest';
import { renderPng, renderSvg, writePlot, type CurvePoint } from '../../runtime/train/plot.ts';

const history: CurvePoint[] = [1, 2, 3, 4, 5].map((epoch) => ({ epoch, trainLoss: 2 / epoch, valLoss: 2.2 / epoch, valAcc: 0.5 + 0.05 * epoch }));

function polylines(svg: string): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  for (const m of svg.matchAll(/<polyline class="(\w+)" points="([^"]*)"/g)) {
    out.set(m[1]!, m[2]!.split(' ').map((p) => p.split(',').map(Number)));
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
