// The two training workloads every framework runs, and how many steps each measures. One table
// here so cnnc, tfjs and PyTorch cannot drift apart: the peers receive their Workload as JSON.

export type WorkloadName = 'lenet' | 'resnet18';

export interface Workload {
  readonly name: WorkloadName;
  /** The model, from dsl-examples; the peers build the same architecture by hand. */
  readonly file: string;
  readonly batch: number;
  /** Input height = width (one channel, as Fashion-MNIST). */
  readonly size: number;
  readonly classes: number;
  /** d2l's learning rate for this model (plain SGD, mean cross-entropy). */
  readonly lr: number;
  /** Untimed steps first: pipeline compiles, allocator growth. At least 2 for the loss cross-check. */
  readonly warmup: number;
  /** Timed rounds; each ends with a loss readback, the only sync point. */
  readonly rounds: number;
  readonly stepsPerRound: number;
}

/** d2l trains on the 60,000 Fashion-MNIST training images: 469 batches of 128. */
export const FASHION_MNIST_TRAIN = 60_000;

export function workloads(quick: boolean): Workload[] {
  const lenet = { name: 'lenet', file: 'dsl-examples/lenet.cnn', batch: 128, size: 28, classes: 10, lr: 0.1 } as const;
  const resnet = { name: 'resnet18', file: 'dsl-examples/resnet18.cnn', classes: 10, lr: 0.01 } as const;
  // ResNet-18 at 96x96 costs ~7 GFLOP per sample per training step: seconds to minutes per step
  // on lavapipe, so it gets few, single-step rounds (a readback per step is noise at that scale).
  // LeNet's rounds on this VM swing between ~14 and ~25 ms within one run (bench/NOTES.md,
  // "Hidden loop bounds"): 15 rounds, about a second of cnnc's time, make every framework's best
  // round less of a draw than 5 did.
  return quick
    ? [
        { ...lenet, warmup: 2, rounds: 3, stepsPerRound: 3 },
        { ...resnet, batch: 4, size: 32, warmup: 2, rounds: 2, stepsPerRound: 1 },
      ]
    : [
        { ...lenet, warmup: 3, rounds: 15, stepsPerRound: 4 },
        { ...resnet, batch: 32, size: 96, warmup: 2, rounds: 3, stepsPerRound: 1 },
      ];
}
