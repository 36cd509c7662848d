import { existsSync, readdirSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Two sets: `npm run test:gpu`, the files that open a WebGPU device (in process or through a CLI
// command that runs kernels: train, eval, predict), and `npm run test:unit`, every other test file.
// `npm test` runs both. The unit set runs with no Vulkan driver, so a unit test that opens a device
// fails ("no WebGPU adapter found"), in process or in a child: move its file here.
const gpu = [
  'tests/browser/*.test.ts',
  'tests/codegen/valid.test.ts',
  'tests/runtime/*.test.ts',
  'tests/cli/diverge.test.ts',
  'tests/cli/eval-predict.test.ts',
  'tests/cli/fashion-mnist.test.ts',
  'tests/cli/inputs.test.ts',
  'tests/cli/last-batch.test.ts',
  'tests/cli/no-fuse.test.ts',
  'tests/cli/resume.test.ts',
  'tests/cli/train.test.ts',
  'tests/cli/val-limit.test.ts',
  'tests/export/ddp-cnnc.test.ts',
  'tests/export/eval.test.ts',
  'tests/export/web.test.ts',
  'tests/seeds/values.test.ts',
];
// Every test file lands in exactly one set: unit is the rest by construction; a gpu entry that
// names no file (renamed, moved) would silently drop a test from both, so it is an error.
for (const entry of gpu) {
  const [dir, name] = [entry.slice(0, entry.lastIndexOf('/')), entry.slice(entry.lastIndexOf('/') + 1)];
  const found = name.startsWith('*') ? readdirSync(dir).some((f) => f.endsWith(name.slice(1))) : existsSync(entry);
  if (!found) throw new Error(`vitest.config.ts: the gpu test set names ${entry}, which matches no file`);
}

export default defineConfig({
  test: {
    // Generous bounds, still finite: on a fresh machine Mesa's shader cache is empty and one large
    // conv kernel compiles in 0.4-2 s on lavapipe (about 8 minutes for the whole suite, cold).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // GPU tests share one lavapipe device per file; two cores do not gain from more workers.
    pool: 'forks',
    maxWorkers: 2,
    globalSetup: ['tests/helpers/bundle-setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: gpu,
          env: {
            VK_DRIVER_FILES: '/nonexistent/cnnc-unit-tests.json',
            VK_ICD_FILENAMES: '/nonexistent/cnnc-unit-tests.json',
          },
        },
      },
      { extends: true, test: { name: 'gpu', include: gpu } },
    ],
  },
});
