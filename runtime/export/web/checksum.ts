// The weights file's checksum, computed by the export and again by the bundle's loader: a
// truncated, padded or damaged weights.bin is refused with a message instead of predicting garbage.

/** 32-bit FNV-1a over the bytes (unsigned). */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
