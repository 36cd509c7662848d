// Tolerance comparison of numeric arrays, numpy/torch allclose style: |a - e| <= atol + rtol * |e|.
// NaN matches only NaN. A failure names the worst element so a kernel bug is easy to locate.

export interface Tolerance {
  readonly rtol: number;
  readonly atol: number;
}

function excess(a: number, e: number, tol: Tolerance): number {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e) ? 0 : Infinity;
  if (a === e) return 0; // equal infinities
  return Math.abs(a - e) / (tol.atol + tol.rtol * Math.abs(e));
}

/** Throws unless every element is within tolerance; the message gives the worst index and values. */
export function expectAllclose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: Tolerance,
  label = 'values',
): void {
  if (actual.length !== expected.length) {
    throw new Error(`${label}: length ${actual.length}, expected ${expected.length}`);
  }
  let worst = -1;
  let worstExcess = 1;
  let failures = 0;
  for (let i = 0; i < actual.length; i++) {
    const r = excess(actual[i] as number, expected[i] as number, tol);
    if (r > 1) failures++;
    if (r > worstExcess) {
      worst = i;
      worstExcess = r;
    }
  }
  if (failures === 0) return;
  const a = actual[worst] as number;
  const e = expected[worst] as number;
  throw new Error(
    `${label}: ${failures}/${actual.length} elements outside rtol=${tol.rtol} atol=${tol.atol}; ` +
      `worst at index ${worst}: actual ${a}, expected ${e}, |diff| ${Math.abs(a - e)} ` +
      `(${worstExcess.toPrecision(3)}x the allowed ${tol.atol + tol.rtol * Math.abs(e)})`,
  );
}
