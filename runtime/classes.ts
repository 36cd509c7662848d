// What a classifier's logits say, shared by `cnnc predict` and the playground's predictions, so that
// both name and rank classes the same way. Portable: the playground imports it.

/** d2l's `get_fashion_mnist_labels`, in label order. */
export const FASHION_MNIST = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Softmax probabilities (max-shifted, float64) of one sample's logits, best first; ties by class. */
export function ranked(logits: Float32Array): { cls: number; p: number }[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v, cls) => ({ cls, p: v / sum })).sort((a, b) => b.p - a.p || a.cls - b.cls);
}
