// Writes IDX files (the MNIST format) for data tests: big-endian magic and sizes, then u8 values.
export function idxBytes(magic: number, dims: readonly number[], values: ArrayLike<number>): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(Uint8Array.from(values))]);
}
