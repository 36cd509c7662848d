// Python's float formatting ('{:.Nf}', '{:.Ne}'), which PyTorch's tensor printing uses: correctly
// rounded from the double's exact binary value, ties to even. JavaScript's toFixed/toExponential
// round ties away from zero (0.03125 -> '0.0313' where Python prints '0.0312') and toFixed turns
// exponential at 1e21, so the digits are computed here exactly with BigInt.

/** |x| = mantissa * 2^exponent, exactly (x finite). */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  return biased === 0
    ? { mantissa: fraction, exponent: -1074 }
    : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** round(|x| * 10^scale) to the nearest integer, ties to even, exactly. */
function scaledRound(x: number, scale: number): bigint {
  const { mantissa, exponent } = decompose(x);
  let num = mantissa;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  if (scale >= 0) num *= pow10(scale);
  else den *= pow10(-scale);
  const q = num / den;
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

const negative = (x: number): boolean => x < 0 || Object.is(x, -0);

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

/** Python's '{:.<digits>f}'.format(x). */
export function fixed(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const s = scaledRound(x, digits)
    .toString()
    .padStart(digits + 1, '0');
  const body = digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
  return (negative(x) ? '-' : '') + body;
}

/** Python's '{:.<digits>e}'.format(x): mantissa, 'e', sign, an exponent of two digits or more. */
export function exponential(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const sign = negative(x) ? '-' : '';
  let e = 0;
  let n = 0n;
  if (x !== 0) {
    // log10 may be off by one near powers of ten; the exact checks below settle it.
    e = Math.floor(Math.log10(Math.abs(x)));
    for (;;) {
      n = scaledRound(x, digits - e);
      if (n >= pow10(digits + 1)) e += 1;
      else if (n < pow10(digits)) e -= 1;
      else break;
    }
  }
  const s = n.toString().padStart(digits + 1, '0');
  const mantissa = digits === 0 ? s : `${s[0]}.${s.slice(1)}`;
  return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}
