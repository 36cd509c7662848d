// Writes little-endian float32 .npy files (format 1.0) for CLI tests that train on npy data.
import { writeFileSync } from 'node:fs';

export function writeNpy(path: string, shape: readonly number[], data: Float32Array): void {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  // The header is padded so the data starts at a multiple of 64 bytes, as numpy writes it.
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11) + '\n';
  const head = Buffer.concat([
    Buffer.from([0x93]),
    Buffer.from('NUMPY'),
    Buffer.from([1, 0, header.length, 0]),
    Buffer.from(header, 'latin1'),
  ]);
  writeFileSync(path, Buffer.concat([head, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
