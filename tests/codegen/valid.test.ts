// Every kernel of every model in dsl-examples/ (forward, loss, backward, update) compiles in Dawn
// without a validation error, at WebGPU's default limits and as for lavapipe. VGG-11's first linear weight (392 MiB)
// is split over bindings of the default 128 MiB, but no buffer of the default 256 MiB holds it: it
// compiles with a larger maxBufferSize (any adapter's real one here) and is refused at the
// default with E0401 naming its layer, instead of failing in the driver.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, CompileError, compileModel } from '../../compiler/index.ts';
import { defaultLimits } from '../../compiler/codegen/index.ts';
import { openGpu, type Gpu } from '../../runtime/gpu/dawn.ts';
import { pipelineFor } from '../../runtime/gpu/run-kernel.ts';

const root = join(import.meta.dirname, '..', '..');
// vgg-variants.cnn imports vgg-small.cnn.
const readFile = (path: string): string => readFileSync(join(root, path), 'utf8');
const models = readdirSync(join(root, 'dsl-examples'))
  .filter((f) => f.endsWith('.cnn'))
  .sort()
  .flatMap((f) => {
    const path = `dsl-examples/${f}`;
    const source = readFileSync(join(root, path), 'utf8');
    const program = analyze(path, source, { readFile }).program!;
    return program.defs
      .filter((d) => d.kind === 'model')
      .map((d) => {
        // Shape-demo models (d2l 7.3-7.5) end in a feature map, not logits: train them on squared error.
        const out = analyze(path, source, { model: d.name.name, readFile }).shaped!;
        const classifier = out.nodes[out.output]!.shape.length === 2;
        return {
          path,
          source,
          model: d.name.name,
          loss: classifier ? ('cross_entropy' as const) : ('mse_sum' as const),
        };
      });
  });

/** VGG-11's first linear layer holds 25088 x 4096 weights: 392 MiB, over the default 256 MiB buffer. */
const tooBig = new Set(['dsl-examples/vgg.cnn:VGG']);

let gpu: Gpu;
beforeAll(async () => {
  gpu = await openGpu();
});
afterAll(() => gpu.dispose());

/**
 * WebGPU's defaults (what `cnnc kernels` shows and a GPU without subgroups gets), and a CPU adapter
 * as lavapipe is: subgroups of 8 (shared loads) and short loops' bounds hidden from its compiler.
 */
const limitSets = [
  ['default limits', defaultLimits],
  ['subgroups of 8, hidden loop bounds', { ...defaultLimits, subgroupMinSize: 8, unrollLoops: false }],
] as const;

describe.each(limitSets)('every example kernel compiles in Dawn, %s', (_label, limits) => {
  it.each(models.map((m) => [`${m.path}:${m.model}`, m] as const))('%s', async (key, m) => {
    const options = { path: m.path, model: m.model, readFile, batch: 2, loss: m.loss, limits };
    if (tooBig.has(key)) {
      expect(() => compileModel(m.source, options)).toThrow(CompileError);
      expect(() => compileModel(m.source, options)).toThrow(
        /E0401.*6\.weight \[4096, 25088\].*maxBufferSize.*vgg\.cnn:\d+:\d+\s+linear\(4096\)/s,
      );
    }
    const c = compileModel(m.source, {
      ...options,
      limits: tooBig.has(key) ? { ...limits, maxBufferSize: 2 ** 30 } : limits,
    });
    const calls = [...c.kernels.forward, ...c.kernels.train];
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.kernel.wgsl.startsWith(`// kernel  ${call.kernel.name}`)).toBe(true);
      await pipelineFor(gpu, call.kernel);
    }
  });
});
