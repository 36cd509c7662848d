// Writes little-endian float32 .npy files for CLI tests that train on npy data, with the runtime's
// encoder (`cnnc run --out` writes through it too; tests/cli/run.test.ts checks numpy reads it).
import { writeFileSync } from 'node:fs';
import { encodeNpy } from '../../runtime/data/npy.ts';

export function writeNpy(path: string, shape: readonly number[], data: Float32Array): void {
  writeFileSync(path, encodeNpy(shape, data));
}
