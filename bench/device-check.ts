// The device check (issue 15 item 6): what a machine with a GPU is borrowed for, in one process
// that writes one JSON report. scripts/device-check.sh bundles this file (with the CLI, so that
// `cli ARGS...` runs cnnc itself) and carries it there with Node, dawn.node and the Vulkan loader.
// Each part runs on its own: one that fails or is unavailable records why and the rest go on.
//   node device-check.mjs --out REPORT.json [--batch N] [--size S] [--quick]
//   node device-check.mjs cli ARGS...        (the cnnc CLI)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { create } from 'webgpu';
import { main } from '../runtime/cli/main.ts';
import { openGpu, type Gpu } from '../runtime/gpu/dawn.ts';
import { compileWorkload } from './cnnc.ts';
import { makeBatch, writeJob } from './exchange.ts';
import { kernelThroughput } from './kernels.ts';
import { measure } from './measure.ts';
import type { Workload } from './workloads.ts';

/** Set by the bundler (scripts/device-check.sh): the commit the pack was built from. */
declare const CNNC_COMMIT: string | undefined;

/** The pack's root: the bundle's folder, where the models and Python peers lie. */
const root = path.dirname(process.argv[1]!);

/** Runs cnnc's CLI in a child process of this bundle; the output and exit code. */
function cli(args: readonly string[], timeoutMs: number): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [process.argv[1]!, 'cli', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.slice(-4000) };
}

/** A part of the report: its result, or why there is none, and how long it took. */
async function part<T>(work: () => Promise<T>): Promise<{ seconds: number } & ({ result: T } | { error: string })> {
  const t0 = performance.now();
  try {
    const result = await work();
    return { seconds: (performance.now() - t0) / 1000, result };
  } catch (e) {
    return { seconds: (performance.now() - t0) / 1000, error: e instanceof Error ? e.message : String(e) };
  }
}

/** Kept for the process's life: dawn.node's create() must outlive what it made (runtime/gpu/device.ts). */
let webgpu: GPU | null = null;

async function adapterInfo(gpu: Gpu): Promise<unknown> {
  webgpu ??= create([]);
  const adapter = await webgpu.requestAdapter({ powerPreference: 'high-performance' });
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'], {
    encoding: 'utf8',
  });
  return {
    name: gpu.adapterName,
    // GPUAdapterInfo's fields are getters: spread copies none of them.
    info: adapter
      ? Object.fromEntries(
          (['vendor', 'architecture', 'device', 'description', 'subgroupMinSize', 'subgroupMaxSize'] as const).map(
            (k) => [k, adapter.info[k] ?? null],
          ),
        )
      : null,
    features: adapter ? [...adapter.features].sort() : [],
    limits: gpu.limits,
    timestamps: gpu.timestamps,
    nvidiaSmi: smi.status === 0 ? smi.stdout.trim() : null,
  };
}

/** Per model: a device machine is lent for minutes, and the kernels and the step must still run. */
const TUNE_TIMEOUT_MS = 240_000;

/** `cnnc tune` on each model, where this cnnc has the command (issue 15 item 3). */
function tune(models: readonly { file: string; args: readonly string[] }[]): unknown {
  if (!/^\s+tune\b/m.test(cli(['--help'], 60_000).stdout)) return { skipped: 'this cnnc has no `tune` command' };
  return models.map(({ file, args }) => {
    const r = cli(['tune', path.join(root, file), ...args, '--json'], TUNE_TIMEOUT_MS);
    let json: unknown = null;
    try {
      json = JSON.parse(r.stdout);
    } catch {}
    return {
      file,
      args,
      status: r.status,
      ...(json !== null ? { json } : { stdout: r.stdout.slice(-8000) }),
      stderr: r.stderr,
    };
  });
}

/** A Python that imports torch (the one on PATH first, then Debian's), and the device it will use: CUDA where it has one. */
function torchPython(): { python: string; device: 'cuda' | 'cpu' } | { skipped: string } {
  const why: string[] = [];
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status === 0) return { python, device: r.stdout.trim() === 'cuda' ? 'cuda' : 'cpu' };
    why.push(`${python}: ${(r.stderr ?? r.error?.message ?? '').trim().split('\n').at(-1)}`);
  }
  return { skipped: `no python3 here imports torch (${why.join('; ')})` };
}

/** One ResNet-18 training step timed in cnnc, and PyTorch eager fp32 (TF32 off) on the same weights and batch. */
async function resnetStep(gpu: Gpu, w: Workload): Promise<unknown> {
  const { model, compileMs } = await compileWorkload(gpu, w, fs.readFileSync(path.join(root, w.file), 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnc-device-check-'));
  try {
    const batch = makeBatch(w);
    const job = await writeJob(dir, w, model, batch);
    const [cnnc] = await measure([{ step: () => model.trainStep(batch.x, batch.y), loss: () => model.lastLoss() }], w);
    await model.dispose();
    const torch = torchPython();
    let pytorch: unknown = torch;
    if ('device' in torch) {
      const r = spawnSync(
        torch.python,
        [path.join(root, 'bench/pytorch.py'), JSON.stringify({ ...job, device: torch.device })],
        {
          encoding: 'utf8',
          timeout: 600_000,
        },
      );
      pytorch = r.status === 0 ? JSON.parse(r.stdout) : { error: r.stderr.trim().split('\n').slice(-3).join('\n') };
    }
    return { workload: w, cnnc: { ...cnnc, compileMs }, pytorch };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function check(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: 'device-check.json' },
      batch: { type: 'string', default: '128' },
      size: { type: 'string', default: '96' },
      quick: { type: 'boolean', default: false },
    },
  });
  const quick = values.quick;
  const gpu = await openGpu();
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    commit: typeof CNNC_COMMIT === 'string' ? CNNC_COMMIT : 'unknown',
    node: process.version,
    host: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '', memoryGiB: Math.round(os.totalmem() / 2 ** 30) },
    env: {
      VK_DRIVER_FILES: process.env['VK_DRIVER_FILES'] ?? null,
      LD_LIBRARY_PATH: process.env['LD_LIBRARY_PATH'] ?? null,
    },
  };
  const save = (): void => fs.writeFileSync(values.out, `${JSON.stringify(report, null, 1)}\n`);
  const step = async (name: string, work: () => Promise<unknown>): Promise<void> => {
    process.stderr.write(`device check: ${name}...\n`);
    report[name] = await part(work);
    save(); // a part that hangs past the caller's timeout leaves the others' results on disk
  };
  await step('adapter', () => adapterInfo(gpu));
  await step('tune', async () =>
    tune([
      { file: 'dsl-examples/lenet.cnn', args: [] },
      { file: 'dsl-examples/resnet18.cnn', args: ['--batch-size', values.batch, '--resize', values.size] },
    ]),
  );
  await step('kernels', () => kernelThroughput(gpu, quick));
  await step('resnet18', () =>
    resnetStep(gpu, {
      name: 'resnet18',
      file: 'dsl-examples/resnet18.cnn',
      classes: 10,
      lr: 0.01,
      batch: Number(values.batch),
      size: Number(values.size),
      warmup: 2,
      rounds: quick ? 2 : 5,
      stepsPerRound: quick ? 1 : 3,
    }),
  );
  gpu.dispose();
  process.stderr.write(`device check: wrote ${values.out}\n`);
}

if (process.argv[2] === 'cli') process.exitCode = await main(process.argv.slice(3));
else await check();
