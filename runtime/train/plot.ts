// Training curves as d2l's ProgressBoard draws them: train_loss, val_loss and val_acc against the
// epoch on one pair of axes, matplotlib's first three colours and line styles; train_loss per group
// of steps at fractional epochs (StepCurve) where a run records them, else per epoch. Written as SVG and
// as PNG (rasterised here: Bresenham lines and a 3x5 bitmap font for tick labels, the axis label
// and the legend), so a run is watchable without any plotting package. Portable: plot-file.ts writes
// the files under Node.

export interface CurvePoint {
  readonly epoch: number;
  readonly trainLoss: number;
  readonly valLoss: number | null;
  readonly valAcc: number | null;
}

/** The train loss over a group of steps, at the fractional epoch where the group ends (1.5: half of epoch 2). */
export interface StepPoint {
  readonly epoch: number;
  readonly trainLoss: number;
}

/** About this many step points per epoch: d2l's board draws a few; the saved run keeps them all. */
const POINTS_PER_EPOCH = 50;

/**
 * Epochs of at least this many batches draw train_loss per group of steps, as d2l's board does
 * (`cnnc train` and the playground).
 */
export const LONG_EPOCH = 10;

/**
 * Per-step train losses (each step's loss per sample) gathered into points: the mean over groups of
 * `group` consecutive batches of an epoch, a group cut short where an epoch or a run ends. With
 * `--steps K` the groups are those of K steps (one step each for K <= 50), else of an epoch.
 */
export class StepCurve {
  readonly points: StepPoint[];
  private readonly group: number;
  private pending: { epoch: number; key: number; last: number; sum: number; count: number; batches: number } | null =
    null;

  constructor(batchesPerEpoch: number, plannedSteps: number | null, saved: readonly StepPoint[] = []) {
    this.group = Math.max(1, Math.ceil(Math.min(batchesPerEpoch, plannedSteps ?? Infinity) / POINTS_PER_EPOCH));
    this.points = [...saved];
  }

  /** Losses of consecutive batches of `epoch`, the first being batch `first` (0-based) of its `batches`. */
  add(epoch: number, batches: number, first: number, losses: readonly number[]): void {
    losses.forEach((loss, i) => {
      const batch = first + i;
      const key = Math.floor(batch / this.group);
      if (this.pending && (this.pending.epoch !== epoch || this.pending.key !== key)) this.flush();
      this.pending ??= { epoch, key, last: batch, sum: 0, count: 0, batches };
      this.pending.last = batch;
      this.pending.sum += loss;
      this.pending.count++;
    });
  }

  /** Ends the group in progress (at an epoch's end or a `--steps` stop). */
  flush(): void {
    const p = this.pending;
    if (p) this.points.push({ epoch: p.epoch - 1 + (p.last + 1) / p.batches, trainLoss: p.sum / p.count });
    this.pending = null;
  }
}

const W = 640;
const H = 400;
const BOX = { left: 60, right: W - 20, top: 20, bottom: H - 50 };
type Rgb = readonly [number, number, number];

interface Series {
  readonly label: string;
  readonly color: Rgb;
  /** On/off lengths in pixels (SVG stroke-dasharray); [] is solid. */
  readonly dash: readonly number[];
  /** Pixel coordinates. */
  readonly points: readonly (readonly [number, number])[];
}

interface Layout {
  readonly series: readonly Series[];
  /** Tick positions in pixels with their labels. */
  readonly xTicks: readonly { at: number; label: string }[];
  readonly yTicks: readonly { at: number; label: string }[];
}

/** A 1, 2 or 5 times a power of ten giving about five intervals over span. */
function niceStep(span: number): number {
  const raw = span / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
}

function ticks(max: number, step: number, toPixel: (v: number) => number): { at: number; label: string }[] {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const n = Math.round(max / step);
  return Array.from({ length: n + 1 }, (_, i) => ({ at: toPixel(i * step), label: (i * step).toFixed(decimals) }));
}

function layout(history: readonly CurvePoint[], steps: readonly StepPoint[]): Layout {
  // A run shorter than an epoch (`--steps`) gets a fractional axis; whole epochs, integer ticks.
  const last = Math.max(...history.map((p) => p.epoch), ...steps.map((p) => p.epoch), 0);
  const span = last > 0 && last < 1 ? last : Math.max(1, last);
  const xStep = span < 1 ? niceStep(span) : Math.max(1, niceStep(span));
  const xMax = Math.ceil(span / xStep - 1e-9) * xStep;
  const values = [
    ...history.flatMap((p) => [p.trainLoss, p.valLoss ?? 0, p.valAcc ?? 0]),
    ...steps.map((p) => p.trainLoss),
  ].filter(Number.isFinite);
  const yStep = niceStep(Math.max(1e-6, ...values));
  const yMax = Math.ceil(Math.max(1e-6, ...values) / yStep) * yStep;
  const sx = (x: number): number => BOX.left + (x / xMax) * (BOX.right - BOX.left);
  const sy = (y: number): number => BOX.bottom - (y / yMax) * (BOX.bottom - BOX.top);
  const curve = <P extends { epoch: number }>(
    label: string,
    color: Rgb,
    dash: number[],
    from: readonly P[],
    pick: (p: P) => number | null,
  ): Series[] => {
    const points = from.flatMap((p) => {
      const v = pick(p);
      return v === null || !Number.isFinite(v) ? [] : [[sx(p.epoch), sy(v)] as const];
    });
    return points.length > 0 ? [{ label, color, dash, points }] : [];
  };
  return {
    series: [
      ...(steps.length > 0
        ? curve('train_loss', [0x1f, 0x77, 0xb4], [], steps, (p) => p.trainLoss)
        : curve('train_loss', [0x1f, 0x77, 0xb4], [], history, (p) => p.trainLoss)),
      ...curve('val_loss', [0xff, 0x7f, 0x0e], [8, 5], history, (p) => p.valLoss),
      ...curve('val_acc', [0x2c, 0xa0, 0x2c], [8, 4, 2, 4], history, (p) => p.valAcc),
    ],
    xTicks: ticks(xMax, xStep, sx),
    yTicks: ticks(yMax, yStep, sy),
  };
}

const legendAt = (i: number): [number, number] => [BOX.right - 130, BOX.top + 14 + i * 18];
const hex = (c: Rgb): string => `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
const r1 = (v: number): string => v.toFixed(1);

export function renderSvg(history: readonly CurvePoint[], steps: readonly StepPoint[] = []): string {
  const { series, xTicks, yTicks } = layout(history, steps);
  const { left, right, top, bottom } = BOX;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<path d="M${left} ${top}V${bottom}H${right}" fill="none" stroke="black"/>`,
    ...xTicks.map(
      (t) =>
        `<line x1="${r1(t.at)}" y1="${bottom}" x2="${r1(t.at)}" y2="${bottom + 5}" stroke="black"/><text x="${r1(t.at)}" y="${bottom + 18}" text-anchor="middle">${t.label}</text>`,
    ),
    ...yTicks.map(
      (t) =>
        `<line x1="${left - 5}" y1="${r1(t.at)}" x2="${left}" y2="${r1(t.at)}" stroke="black"/><text x="${left - 8}" y="${r1(t.at + 4)}" text-anchor="end">${t.label}</text>`,
    ),
    `<text x="${(left + right) / 2}" y="${H - 12}" text-anchor="middle">epoch</text>`,
  ];
  series.forEach((s, i) => {
    const dash = s.dash.length > 0 ? ` stroke-dasharray="${s.dash.join(' ')}"` : '';
    const [lx, ly] = legendAt(i);
    out.push(
      `<polyline class="${s.label}" points="${s.points.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' ')}" fill="none" stroke="${hex(s.color)}" stroke-width="2"${dash}/>`,
      ...(s.points.length === 1
        ? [`<circle cx="${r1(s.points[0]![0])}" cy="${r1(s.points[0]![1])}" r="2.5" fill="${hex(s.color)}"/>`]
        : []),
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${hex(s.color)}" stroke-width="2"${dash}/><text x="${lx + 30}" y="${ly + 4}">${s.label}</text>`,
    );
  });
  return out.join('\n') + '\n</svg>\n';
}

/** 3x5 glyphs, one octal digit per row (4 = left pixel), for the characters the plot writes. */
const FONT: Record<string, string> = {
  0: '75557',
  1: '26227',
  2: '71747',
  3: '71717',
  4: '55711',
  5: '74717',
  6: '74757',
  7: '71111',
  8: '75757',
  9: '75717',
  '.': '00002',
  '-': '00700',
  _: '00007',
  a: '07357',
  c: '03443',
  e: '03743',
  h: '44755',
  i: '20222',
  l: '62227',
  n: '06555',
  o: '02552',
  p: '06564',
  r: '05644',
  s: '03616',
  t: '27223',
  v: '05552',
};
const SCALE = 2;

class Raster {
  readonly rgba = new Uint8Array(W * H * 4).fill(255);

  dot(x: number, y: number, c: Rgb, size: number): void {
    for (let dy = 0; dy < size; dy++)
      for (let dx = 0; dx < size; dx++) {
        const px = Math.round(x) + dx;
        const py = Math.round(y) + dy;
        if (px >= 0 && px < W && py >= 0 && py < H) this.rgba.set(c, (py * W + px) * 4);
      }
  }

  /** Bresenham from (x0, y0) to (x1, y1); `walked` carries the dash phase along a polyline. */
  line(
    x0: number,
    y0: number,
    x1: number,
    y1: number,
    c: Rgb,
    dash: readonly number[],
    size: number,
    walked = 0,
  ): number {
    let [x, y] = [Math.round(x0), Math.round(y0)];
    const [tx, ty] = [Math.round(x1), Math.round(y1)];
    const [dx, dy] = [Math.abs(tx - x), -Math.abs(ty - y)];
    const [stepX, stepY] = [x < tx ? 1 : -1, y < ty ? 1 : -1];
    const period = dash.reduce((a, b) => a + b, 0);
    for (let err = dx + dy; ; walked++) {
      let phase = period > 0 ? walked % period : 0;
      const on = dash.findIndex((d) => {
        phase -= d;
        return phase < 0;
      });
      if (on < 0 || on % 2 === 0) this.dot(x, y, c, size);
      if (x === tx && y === ty) return walked;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += stepX;
      }
      if (e2 <= dx) {
        err += dx;
        y += stepY;
      }
    }
  }

  /** Text with its left edge at x (right edge for align 'end', centre for 'middle'), its middle at y. */
  text(s: string, x: number, y: number, align: 'start' | 'middle' | 'end' = 'start'): void {
    const width = s.length * 4 * SCALE - SCALE;
    const x0 = align === 'start' ? x : align === 'end' ? x - width : x - width / 2;
    [...s].forEach((ch, k) =>
      (FONT[ch] ?? '00000').split('').forEach((row, r) => {
        for (let bit = 0; bit < 3; bit++)
          if ((Number(row) >> (2 - bit)) & 1)
            this.dot(x0 + (k * 4 + bit) * SCALE, y + (r - 2.5) * SCALE, [0, 0, 0], SCALE);
      }),
    );
  }
}

/** The curves as RGBA pixels, what the PNG holds (and the playground's canvas shows). */
export function rasterize(
  history: readonly CurvePoint[],
  steps: readonly StepPoint[] = [],
): { width: number; height: number; rgba: Uint8Array } {
  const { series, xTicks, yTicks } = layout(history, steps);
  const { left, right, top, bottom } = BOX;
  const img = new Raster();
  const black: Rgb = [0, 0, 0];
  img.line(left, top, left, bottom, black, [], 1);
  img.line(left, bottom, right, bottom, black, [], 1);
  for (const t of xTicks) {
    img.line(t.at, bottom, t.at, bottom + 5, black, [], 1);
    img.text(t.label, t.at, bottom + 15, 'middle');
  }
  for (const t of yTicks) {
    img.line(left - 5, t.at, left, t.at, black, [], 1);
    img.text(t.label, left - 8, t.at, 'end');
  }
  img.text('epoch', (left + right) / 2, H - 16, 'middle');
  series.forEach((s, i) => {
    let walked = 0;
    for (let k = 1; k < s.points.length; k++)
      walked = img.line(...s.points[k - 1]!, ...s.points[k]!, s.color, s.dash, 2, walked);
    if (s.points.length === 1) img.dot(s.points[0]![0] - 1, s.points[0]![1] - 1, s.color, 3);
    const [lx, ly] = legendAt(i);
    img.line(lx, ly, lx + 24, ly, s.color, s.dash, 2);
    img.text(s.label, lx + 30, ly);
  });
  return { width: W, height: H, rgba: img.rgba };
}
