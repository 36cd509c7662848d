// Data-loading throughput: one shuffled epoch of the Fashion-MNIST train split at the sizes d2l
// trains on (28x28 for LeNet/MLPs, 96x96 for ResNet/GoogLeNet, 224x224 for AlexNet/VGG/NiN), in
// batches of 256. Run: npx tsx bench/data.ts [DATA_DIR]. The GPU must never wait on this loop.
import { epochBatches } from '../runtime/data/batches.ts';
import { DEFAULT_DATA_DIR, loadDataset } from '../runtime/data/dataset.ts';

const dir = process.argv[2] ?? DEFAULT_DATA_DIR;
let t0 = performance.now();
const ds = loadDataset(dir, 'train');
console.log(
  `loaded ${ds.count} images ${ds.height}x${ds.width} in ${(performance.now() - t0).toFixed(0)} ms from ${ds.source}`,
);

for (const size of [28, 96, 224]) {
  t0 = performance.now();
  let samples = 0;
  for (const batch of epochBatches(ds, { batchSize: 256, shuffle: true, seed: 1, epoch: 0, resize: [size, size] }))
    samples += batch.size;
  const seconds = (performance.now() - t0) / 1000;
  console.log(
    `${size}x${size}: ${samples} samples in ${seconds.toFixed(2)} s = ${Math.round(samples / seconds)} samples/s`,
  );
}
