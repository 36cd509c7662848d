// What a classifier's logits say, shared by `cnnc predict` and the playground's predictions, so that
// both name and rank classes the same way. Portable and import-free: the playground and the web
// bundle's loader import it.

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

/**
 * Softmax probabilities of one sample's logits: max-shifted, in float64, summed left to right (the
 * web bundle's loader imports it too, so a bundle's probabilities are `cnnc predict`'s).
 */
export function softmax(logits: Float32Array): number[] {
  const max = Math.max(...logits);
  const e = Array.from(logits, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Softmax probabilities of one sample's logits, best first; ties by class. */
export function ranked(logits: Float32Array): { cls: number; p: number }[] {
  return softmax(logits)
    .map((p, cls) => ({ cls, p }))
    .sort((a, b) => b.p - a.p || a.cls - b.cls);
}
