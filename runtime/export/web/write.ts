// The files of a `cnnc export --web` bundle: index.js (the loader), model.json (the manifest),
// kernels/*.wgsl and weights.bin (each state_dict tensor as float32, in the manifest's order).
import type { WebManifest } from './format.ts';
import type { WebBundle } from './manifest.ts';
import type { Checkpoint } from '../../train/checkpoint.ts';
import { floatTensor } from '../../train/state-dict.ts';
import { fnv1a } from './checksum.ts';
import { loaderSource } from './loader-source.ts';

/** Each file's contents by its path in the bundle, and the manifest (with the weights' checksum). */
export function webBundleFiles(
  bundle: WebBundle,
  ckpt: Checkpoint,
): { files: Map<string, string | Uint8Array>; manifest: WebManifest } {
  const { manifest: partial } = bundle;
  const weights = new Float32Array(partial.weights.bytes / 4);
  for (const t of partial.tensors) weights.set(floatTensor(ckpt, t.name), t.at / 4);
  const bytes = new Uint8Array(weights.buffer);
  const manifest: WebManifest = { ...partial, weights: { ...partial.weights, checksum: fnv1a(bytes) } };
  const files = new Map<string, string | Uint8Array>(bundle.files);
  files.set(manifest.weights.file, bytes);
  files.set('model.json', readableJson(manifest));
  files.set('index.js', loaderSource());
  return { files, manifest };
}

/** JSON with one line per field, and per item of the kernel and tensor lists. */
function readableJson(manifest: WebManifest): string {
  const field = ([key, value]: [string, unknown]): string =>
    Array.isArray(value) && value.some((v) => typeof v === 'object')
      ? `${JSON.stringify(key)}: [\n${value.map((v) => `  ${JSON.stringify(v)}`).join(',\n')}\n ]`
      : `${JSON.stringify(key)}: ${JSON.stringify(value)}`;
  return `{\n ${Object.entries(manifest).map(field).join(',\n ')}\n}\n`;
}
