// `cnnc compile` and `cnnc kernels` as a user runs them: every --emit form, files under --out,
// kernel headers that name the .cnn line, and the backward/filter options.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cnnc } from '../helpers/cli.ts';

const lenet = 'dsl-examples/lenet.cnn';

describe('cnnc compile', () => {
  it('--emit ir prints the graph and the step program with forward and train passes', () => {
    const r = cnnc('compile', lenet, '--emit', 'ir');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^graph LeNet \{\n {2}%0 = input\(\) shape=\(1, 28, 28\) : \[128, 1, 28, 28\]/);
    expect(r.stdout).toContain('step program LeNet (batch 128)');
    expect(r.stdout).toMatch(/train \{[\s\S]*conv2d_dw\([\s\S]*update\(/);
  });

  it('--emit graph prints DOT with every layer and edge, warning about WebGPU default limits', () => {
    const r = cnnc('compile', 'dsl-examples/resnet18.cnn', '--emit', 'graph');
    expect(r.code).toBe(0);
    // Batch 128 at 96x96 fits WebGPU's defaults: no tensor over a binding (128 MiB) or a buffer.
    // At 256 the first batch norm's input (144 MiB) exceeds a binding, and training batch norm
    // needs the whole batch in one dispatch (no batch slices).
    expect(r.stderr).toBe('');
    const big = cnnc('compile', 'dsl-examples/resnet18.cnn', '--emit', 'graph', '--input', '256,1,96,96');
    expect(big.code).toBe(0);
    expect(big.stderr).toMatch(
      /^warning\[E0401\]: kernel \w+_batchnorm_train\w* \(dsl-examples\/resnet18\.cnn:\d+:\d+\s+batchnorm\) binds x of 144\.0 MiB/m,
    );
    expect(r.stdout).toMatch(/^digraph "ResNet18" \{/);
    expect(r.stdout).toContain('label="b2.0.conv1 conv2d\\n[128, 64, 24, 24]"');
    expect(r.stdout.match(/ -> /g)!.length).toBeGreaterThan(60);
  });

  it('--emit plan prints arenas and placements', () => {
    const r = cnnc('compile', lenet, '--emit', 'plan');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/arenas \{\n {2}param +242\.5 KiB/);
    expect(r.stdout).toContain('"0.weight"');
  });

  it('--emit wgsl --out DIR writes one file per kernel, each with its header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cnnc-wgsl-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const r = cnnc('compile', lenet, '--emit', 'wgsl', '--out', dir);
    expect(r.code).toBe(0);
    const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl'));
    expect(r.stdout).toBe(`wrote ${files.length} kernels to ${dir}\n`);
    expect(files.length).toBeGreaterThan(20);
    for (const f of files)
      expect(readFileSync(join(dir, f), 'utf8')).toMatch(
        /^\/\/ kernel {2}k\d+_\w+ +\((forward|backward|loss|update)\)\n/,
      );
  });

  it('--emit fusion lists each decision with its reason; --no-fuse says fusion is off', () => {
    const r = cnnc('compile', lenet, '--emit', 'fusion');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^forward pass: 4 of 4 candidates fused \{\n {2}fused {5}unary\(sigmoid\) \[sigmoid#2 at dsl-examples\/lenet\.cnn:\d+:\d+\] {2}into {2}conv2d \[conv2d#1 at /,
    );
    expect(r.stdout).toMatch(/^train pass: 8 of 8 candidates fused \{$/m);
    expect(r.stdout).toMatch(
      /fused {5}unary_grad\(sigmoid\) .* into {2}pool_grad .*\n {12}%\d+ \[128, 6, 28, 28\] \(2352\.0 KiB\) is read only by the activation gradient: never stored/,
    );
    const off = cnnc('compile', lenet, '--emit', 'fusion', '--no-fuse');
    expect(off.stdout).toBe('fusion is off (--no-fuse): every op is a kernel of its own\n');
  });

  it('--emit plan is smaller fused than with --no-fuse', () => {
    const peak = (out: string) => Number(/^peak ([\d.]+) MiB planned/m.exec(out)![1]);
    expect(peak(cnnc('compile', lenet, '--emit', 'plan').stdout)).toBeLessThan(
      peak(cnnc('compile', lenet, '--emit', 'plan', '--no-fuse').stdout),
    );
  });

  it('rejects an unknown --emit', () => {
    const r = cnnc('compile', lenet, '--emit', 'asm');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--emit must be one of ir, graph, plan, fusion, wgsl, got 'asm'");
  });
});

describe('cnnc kernels', () => {
  it('prints forward kernels whose headers name the .cnn source line and fused ops', () => {
    const r = cnnc('kernels', lenet, '--filter', 'conv2d');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /\/\/ kernel {2}k00_conv2d_bias_sigmoid {3}\(forward\)\n\/\/ source {2}dsl-examples\/lenet\.cnn:\d+:3 {2}conv\(6, kernel = 5, padding = 2\)\n\/\/ {9}dsl-examples\/lenet\.cnn:\d+:\d+ {2}sigmoid\n\/\/ fuses {3}conv2d#1, sigmoid#2\n\/\/ binds {3}@0 x\[100352\] r/,
    );
    expect(r.stdout).not.toContain('(backward)');
  });

  it('--backward adds the gradient and update kernels', () => {
    const r = cnnc('kernels', lenet, '--backward');
    expect(r.code).toBe(0);
    for (const k of [
      'conv2d_grad_input',
      'conv2d_grad_weight',
      'linear_grad_weight',
      'avgpool2d_grad_sigmoid_grad',
      'softmax_xent_grad',
      'sgd',
    ])
      expect(r.stdout).toContain(k);
  });

  it('--no-fuse gives every activation and activation gradient a kernel of its own', () => {
    const names = (out: string) => [...out.matchAll(/^\/\/ kernel {2}(k\d+_\w+)/gm)].map((m) => m[1]!);
    const fused = names(cnnc('kernels', lenet, '--backward').stdout);
    const plain = names(cnnc('kernels', lenet, '--backward', '--no-fuse').stdout);
    expect(plain.length - fused.length).toBe(8);
    expect(plain.filter((k) => /_sigmoid(_grad)?$/.test(k))).toHaveLength(8);
    expect(fused.filter((k) => /^k\d+_sigmoid/.test(k))).toHaveLength(0);
  });

  it('--subgroups shows the kernels a device with subgroups runs: GEMMs share their U loads', () => {
    const shared = (out: string) =>
      [...out.matchAll(/^\/\/ kernel {2}(k\d+_\w+)[\s\S]*?(?=^\/\/ kernel|(?![\s\S]))/gm)]
        .filter((m) => m[0].includes('subgroupShuffle'))
        .map((m) => m[1]!);
    expect(shared(cnnc('kernels', lenet, '--backward').stdout)).toEqual([]);
    const r = cnnc('kernels', lenet, '--backward', '--subgroups');
    expect(r.stdout).toContain('enable subgroups;');
    const gemms = shared(r.stdout);
    for (const k of [
      'conv2d_bias_sigmoid',
      'linear_sigmoid',
      'conv2d_grad_input',
      'conv2d_grad_weight',
      'linear_grad_weight',
    ]) {
      expect(gemms.some((name) => name.includes(k))).toBe(true);
    }
    expect(gemms.some((name) => /pool|sgd|softmax/.test(name))).toBe(false);
  });

  it('--filter with no match lists the kernels', () => {
    const r = cnnc('kernels', lenet, '--filter', 'nothing');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no kernel matches 'nothing' \(kernels: k00_conv2d_bias_sigmoid, /);
  });
});
