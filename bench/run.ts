// `npm run bench [-- --quick] [--only train,kernels,compile,cold]`: cnnc side by side with TensorFlow.js's
// WebGPU backend (same dawn.node) and PyTorch on the CPU, in one run on this machine. Prints
// tables and writes bench/results.json. --quick shrinks every workload to a smoke test.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openGpu } from '../runtime/gpu/dawn.ts';
import { benchCnnc, type CnncRun } from './cnnc.ts';
import { coldStart, coldStartJobs, type ColdStartRow } from './cold-start.ts';
import { kernelThroughput, type KernelReport } from './kernels.ts';
import { runPeer, type PeerName, type PeerOutcome } from './peers.ts';
import { FASHION_MNIST_TRAIN, workloads, type Workload } from './workloads.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const sections = new Set(onlyAt >= 0 ? (args[onlyAt + 1] ?? '').split(',') : ['train', 'kernels', 'compile', 'cold']);
const PEERS: readonly PeerName[] = ['tfjs-webgpu', 'pytorch-cpu'];

interface TrainResult {
  readonly workload: Workload;
  readonly cnnc: CnncRun;
  readonly cnncUnfused: CnncRun;
  readonly peers: Record<string, PeerOutcome & { lossesAgree?: boolean }>;
}

const fmt = (x: number, digits = 1): string => x.toFixed(digits);
const table = (head: readonly string[], rows: readonly (readonly string[])[]): string => {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
};

/** Same weights, same batch: the first losses of every framework agree, or the comparison is void. */
const agree = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((x, i) => Math.abs(x - b[i]!) <= 1e-3 * Math.max(1, Math.abs(x)));

async function train(): Promise<TrainResult[]> {
  const results: TrainResult[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnnc-bench-'));
  for (const w of workloads(quick)) {
    const gpu = await openGpu();
    const { fused: run, unfused, job } = await benchCnnc(gpu, w, dir).finally(() => gpu.dispose());
    console.log(`${w.name}: cnnc ${fmt(run.stepMs)} ms/step (${fmt(unfused.stepMs)} with --no-fuse)`);
    const peers: TrainResult['peers'] = {};
    for (const peer of PEERS) {
      const limit = (w.name === 'lenet' ? 5 : quick ? 5 : 30) * 60_000;
      const outcome = await runPeer(peer, job, limit);
      peers[peer] = outcome.ok ? { ...outcome, lossesAgree: agree(run.losses, outcome.timing.losses) } : outcome;
      console.log(
        `${w.name}: ${peer} ${outcome.ok ? `${fmt(outcome.timing.stepMs)} ms/step` : `no result (${outcome.reason})`}`,
      );
    }
    results.push({ workload: w, cnnc: run, cnncUnfused: unfused, peers });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return results;
}

function printTrain(results: readonly TrainResult[]): void {
  const rows = results.flatMap(({ workload: w, cnnc, cnncUnfused, peers }) => {
    const epochs = (ms: number) =>
      w.name === 'lenet' ? fmt((ms * Math.ceil(FASHION_MNIST_TRAIN / w.batch)) / 1000) : '-';
    const row = (who: string, ms: number, agreeNote: string) => [
      `${w.name} b${w.batch} ${w.size}x${w.size}`,
      who,
      fmt(ms),
      epochs(ms),
      fmt(ms / cnnc.stepMs, 2),
      agreeNote,
    ];
    return [
      row('cnnc', cnnc.stepMs, `${cnnc.kernels} kernels`),
      row(
        'cnnc --no-fuse',
        cnncUnfused.stepMs,
        `${cnncUnfused.kernels} kernels${agree(cnnc.losses, cnncUnfused.losses) ? ', losses agree' : ', LOSSES DIFFER'}`,
      ),
      ...Object.entries(peers).map(([name, p]) =>
        p.ok
          ? row(
              name,
              p.timing.stepMs,
              p.lossesAgree
                ? 'losses agree'
                : `LOSSES DIFFER: ${p.timing.losses.map((l) => l.toFixed(5)).join(', ')} vs ${cnnc.losses.map((l) => l.toFixed(5)).join(', ')}`,
            )
          : [`${w.name} b${w.batch} ${w.size}x${w.size}`, name, '-', '-', '-', p.reason.slice(0, 100)],
      ),
    ];
  });
  console.log(
    `\nTraining steps (SGD, cross-entropy; best of rounds; epoch = ${Math.ceil(FASHION_MNIST_TRAIN / 128)} steps of 128)`,
  );
  console.log(table(['workload', 'framework', 'ms/step', 's/epoch', 'x cnnc time', 'check'], rows));
}

interface CompileRow {
  readonly file: string;
  readonly batch?: number;
  readonly cold?: {
    ms: number;
    kernels: number;
    batch: number;
    input: readonly number[];
    peakBytes: number;
    unplannedBytes: number;
    loss?: string;
  };
  readonly warmMs?: number;
  readonly error?: string;
}

/** Each example in a child process: cold with the driver's shader cache off, then warm. */
function compileTimes(): CompileRow[] {
  const files = fs
    .readdirSync('dsl-examples')
    .filter((f) => f.endsWith('.cnn'))
    .sort();
  const jobs: { file: string; batch?: number }[] = [
    ...(quick ? ['lenet.cnn', 'resnet18.cnn'] : files).map((f) => ({ file: `dsl-examples/${f}` })),
    { file: 'dsl-examples/resnet18.cnn', batch: 32 },
  ];
  return jobs.map(({ file, batch }) => {
    const runOne = (env: NodeJS.ProcessEnv) => {
      const r = spawnSync(
        process.execPath,
        ['--import', 'tsx', 'bench/compile-one.ts', file, ...(batch ? [String(batch)] : [])],
        { env, encoding: 'utf8', timeout: 600_000 },
      );
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      return line.startsWith('{')
        ? JSON.parse(line)
        : { error: `no result (${r.signal ?? r.status}): ${r.stderr.trim().split('\n').at(-1) ?? ''}` };
    };
    const cold = runOne({ ...process.env, MESA_SHADER_CACHE_DISABLE: 'true' });
    if (cold.error) return { file, ...(batch ? { batch } : {}), error: cold.error as string };
    const warm = runOne(process.env);
    const row = { file, ...(batch ? { batch } : {}), cold, ...(warm.error ? {} : { warmMs: warm.secondMs as number }) };
    console.log(`compile ${file}${batch ? ` batch ${batch}` : ''}: ${fmt(cold.ms, 0)} ms cold`);
    return row;
  });
}

function printCompile(rows: readonly CompileRow[]): void {
  const mib = (b: number) => fmt(b / 2 ** 20);
  console.log('\nCompile (source to ready pipelines; cold = driver shader cache off) and the memory plan');
  console.log(
    table(
      ['example', 'batch x input', 'kernels', 'cold ms', 'warm ms', 'peak MiB', 'unplanned MiB'],
      rows.map((r) =>
        r.cold
          ? [
              r.file,
              `${r.cold.batch} x ${r.cold.input.join('x')}${r.cold.loss ? ' (mse)' : ''}`,
              String(r.cold.kernels),
              fmt(r.cold.ms, 0),
              r.warmMs ? fmt(r.warmMs, 0) : '-',
              mib(r.cold.peakBytes),
              mib(r.cold.unplannedBytes),
            ]
          : [r.file, '-', '-', '-', '-', '-', 'see below'],
      ),
    ),
  );
  // Below the table, so that one long message does not widen a column.
  for (const r of rows) if (!r.cold) console.log(`  ${r.file}: ${r.error ?? 'no result'}`);
}

function printCold(rows: readonly ColdStartRow[]): void {
  console.log('\nCold start (whole process of `cnnc train FILE --steps 1 --val-limit 1`, driver shader cache off)');
  console.log(
    table(
      ['run', 'seconds', 'of which compiling', 'args'],
      rows.map((r) => [
        r.name,
        r.seconds === null ? '-' : fmt(r.seconds),
        r.compileSeconds === null ? '-' : fmt(r.compileSeconds),
        r.error ?? r.args.join(' '),
      ]),
    ),
  );
}

function printKernels(k: KernelReport): void {
  console.log('\nKernel throughput (GFLOP/s of the direct algorithm, best of runs)');
  console.log(
    table(
      ['kernel', 'GFLOP/s', 'of reference', 'ms', 'first run ms'],
      [...k.rows, k.reference].map((r) => [
        r.label,
        fmt(r.gflops, 2),
        `${fmt((100 * r.gflops) / k.reference.gflops, 0)}%`,
        fmt(r.bestMs, 2),
        fmt(r.firstMs, 0),
      ]),
    ),
  );
}

function targets(
  trainRes: readonly TrainResult[],
  kernels: KernelReport | null,
  compiles: readonly CompileRow[],
  cold: readonly ColdStartRow[],
): string[] {
  const out: string[] = [];
  for (const job of coldStartJobs(quick)) {
    const r = cold.find((c) => c.name === job.name);
    if (r?.seconds != null && job.targetSeconds !== null)
      out.push(
        `${job.name} cold start ${fmt(r.seconds)} s (target ${job.targetSeconds} s): ${r.seconds <= job.targetSeconds ? 'met' : 'NOT met'}`,
      );
  }
  const lenet = trainRes.find((r) => r.workload.name === 'lenet');
  for (const [peer, want] of [
    ['tfjs-webgpu', 20],
    ['pytorch-cpu', 1],
  ] as const) {
    const p = lenet?.peers[peer];
    if (lenet && p?.ok)
      out.push(
        `LeNet step vs ${peer}: ${fmt(p.timing.stepMs / lenet.cnnc.stepMs, 2)}x faster (target ${want}x): ${p.timing.stepMs / lenet.cnnc.stepMs >= want ? 'met' : 'NOT met'}`,
      );
  }
  if (kernels) {
    const convs = kernels.rows.filter((r) => r.label.includes('conv'));
    const worst = Math.min(...convs.map((r) => r.gflops)) / kernels.reference.gflops;
    out.push(
      `slowest conv kernel at ${fmt(100 * worst, 0)}% of the reference tiled matmul (target 50%): ${worst >= 0.5 ? 'met' : 'NOT met'}`,
    );
  }
  const resnet = compiles.find((r) => r.file.endsWith('resnet18.cnn') && r.batch === 32)?.cold;
  if (resnet)
    out.push(
      `ResNet-18 (batch 32, 96x96) compiled with pipelines ready in ${fmt(resnet.ms / 1000, 2)} s cold (target 2 s): ${resnet.ms < 2000 ? 'met' : 'NOT met'}`,
    );
  return out;
}

const gpu = await openGpu();
const adapter = gpu.adapterName;
gpu.dispose();
const torchVersion =
  spawnSync('/usr/bin/python3', ['-c', 'import torch; print(torch.__version__)'], {
    encoding: 'utf8',
  }).stdout?.trim() || 'absent';
const machine = {
  adapter,
  cpus: os.cpus().length,
  cpu: os.cpus()[0]?.model ?? '?',
  node: process.version,
  torch: torchVersion,
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(),
};
console.log(
  `cnnc bench${quick ? ' (quick)' : ''} on ${adapter}, ${machine.cpus} x ${machine.cpu}, node ${machine.node}, torch ${torchVersion}`,
);

const trainRes = sections.has('train') ? await train() : [];
let kernelRes: KernelReport | null = null;
if (sections.has('kernels')) {
  const g = await openGpu();
  kernelRes = await kernelThroughput(g, quick).finally(() => g.dispose());
}
const compileRes = sections.has('compile') ? compileTimes() : [];
const coldRes = sections.has('cold') ? coldStart(quick) : [];

if (trainRes.length) printTrain(trainRes);
if (kernelRes) printKernels(kernelRes);
if (compileRes.length) printCompile(compileRes);
if (coldRes.length) printCold(coldRes);
const verdicts = targets(trainRes, kernelRes, compileRes, coldRes);
console.log(`\nTargets\n${verdicts.map((v) => `  ${v}`).join('\n')}`);

const out = path.join('bench', quick ? 'results.quick.json' : 'results.json');
// With --only, the sections not run keep their numbers from the last run.
const previous =
  onlyAt >= 0 && fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown>) : {};
const fresh = {
  ...(sections.has('train') ? { train: trainRes } : {}),
  ...(sections.has('kernels') ? { kernels: kernelRes } : {}),
  ...(sections.has('compile') ? { compile: compileRes } : {}),
  ...(sections.has('cold') ? { cold: coldRes } : {}),
};
const merged = { ...previous, ...fresh, date: new Date().toISOString(), quick, machine, sectionsRun: [...sections] };
fs.writeFileSync(
  out,
  `${JSON.stringify({ ...merged, targets: targets((merged.train ?? []) as TrainResult[], (merged.kernels ?? null) as KernelReport | null, (merged.compile ?? []) as CompileRow[], (merged.cold ?? []) as ColdStartRow[]) }, null, 1)}\n`,
);
console.log(`\nwrote ${out}`);
process.exit(0);
