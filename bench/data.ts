// Data-loading throughput: one shuffled epoch of the Fashion-MNIST train split at the sizes d2l
// trains on (28x28 for LeNet/MLPs, 96x96 for ResNet/GoogLeNet, 224x224 for AlexNet/VGG/NiN).
// Run: npx tsx bench/data.ts [DATA_DIR]. The GPU must never wait on this loop.
import { epochBatches } from '../runtime/data/batches.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../runtime/data/dataset.ts';

const dir = process.argv[2] ?? DEFAULT_DATA_DIR;
let t0 = performance.now();
const ds = loadDataset(dir, 'train');
console.log(`loaded ${ds.count} images ${ds.height}x${ds.width} in ${(performance.now() - t0).toFixed(0)} ms (${ds.source})`);

for (const size of [28, 96, 224]) {
  t0 = performance.now();
  let samples = 0;
  let checksum = 0; // read every batch so nothing can be optimised away
  for (const batch of epochBatches(ds, { batchSize: 256, shuffle: true, seed: 1, epoch: 0, resize: [size, size] })) {
    samples += batch.size;
    checksum += batch.images[batch.images.length - 1]!;
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`${size}x${size}: ${samples} samples in ${seconds.toFixed(2)} s = ${Math.round(samples / seconds)} samples/s (checksum ${checksum.toFixed(3)})`);
}
