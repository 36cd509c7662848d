// The curves' files under Node: the SVG and a PNG of the rasterised curves (deflate from node:zlib).
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { fsReason, UserError } from '../errors.ts';
import { type CurvePoint, rasterize, renderSvg, type StepPoint } from './plot.ts';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC of type and data (PNG spec section 5.3). */
function chunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** 8-bit RGBA, no interlace, filter type 0 (None) on every scanline. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const raw = Buffer.alloc(height * (1 + width * 4));
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * width * 4, (y + 1) * width * 4), y * (1 + width * 4) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

export function renderPng(history: readonly CurvePoint[], steps: readonly StepPoint[] = []): Buffer {
  const { width, height, rgba } = rasterize(history, steps);
  return encodePng(width, height, rgba);
}

/** The PNG beside an SVG: `curves.svg` -> `curves.png`. */
export const pngPath = (svg: string): string => `${svg.replace(/\.svg$/i, '')}.png`;

/** Writes the SVG and the PNG, each to a temporary file renamed over the target, so a viewer never sees half a plot. */
export function writePlot(svgPath: string, history: readonly CurvePoint[], steps: readonly StepPoint[] = []): void {
  for (const [path, data] of [
    [svgPath, renderSvg(history, steps)],
    [pngPath(svgPath), renderPng(history, steps)],
  ] as const) {
    const tmp = `${path}.tmp-${process.pid}`;
    try {
      writeFileSync(tmp, data);
      renameSync(tmp, path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw new UserError(`cannot write ${path}: ${fsReason(e)}`);
    }
  }
}
