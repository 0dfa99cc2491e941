import { assert, assertEquals } from "../assert.ts";
import { fma, fmaExact, twoProduct, twoSum } from "../../geometry/fma.ts";
import { Rng } from "../../geometry/rng.ts";
import cases from "../fixtures/qa/fma_cases.json" with { type: "json" };

/** Parses Python's float.hex() output. */
function fromHex(s: string): number {
  const m = s.match(/^(-?)0x([01])\.([0-9a-f]*)p([+-]\d+)$/);
  if (!m) throw new Error(`bad hex float ${s}`);
  const frac = m[3] === "" ? 0 : parseInt(m[3], 16) / 16 ** m[3].length;
  const v = (Number(m[2]) + frac) * 2 ** Number(m[4]);
  return m[1] === "-" ? -v : v;
}

Deno.test("fma matches exactly rounded products from Python fractions", () => {
  assert(cases.length === 400);
  for (const [a, b, c, want] of cases) {
    const [x, y, z, w] = [fromHex(a), fromHex(b), fromHex(c), fromHex(want)];
    assertEquals(fma(x, y, z), w, `fma(${a}, ${b}, ${c})`);
    assertEquals(fmaExact(x, y, z), w, `fmaExact(${a}, ${b}, ${c})`);
  }
});

Deno.test("fma agrees with the BigInt reference on random and adversarial inputs", () => {
  const rng = new Rng("fma");
  const f = new Float64Array(1), u = new Uint32Array(f.buffer);
  const anyDouble = () => {
    u[0] = rng.nextUint32(), u[1] = rng.nextUint32();
    return f[0];
  };
  let checked = 0, differsFromPlain = 0;
  for (let i = 0; i < 40000; i++) {
    let a: number, b: number, c: number;
    switch (i % 5) {
      case 0: // rotation of a point in metres, as the box sampler does
        [a, b, c] = [rng.uniform(-5, 5), rng.uniform(-1, 1), rng.uniform(-5, 5)];
        break;
      case 1: // c cancels the product to within a few ulps
        [a, b] = [rng.uniform(-3, 3), rng.uniform(-1, 1)];
        c = -(a * b) * (1 + rng.int(-4, 4) * 2 ** -52);
        break;
      case 2: // the exact product has 54 to 106 bits; c at or next to a halfway point
        a = 1 + rng.int(0, 2 ** 26) * 2 ** -26, b = 1 + rng.int(0, 2 ** 26) * 2 ** -26;
        c = rng.int(-3, 3) * 2 ** -53 - (rng.chance(0.5) ? a * b : 0);
        break;
      case 3: // any bit pattern
        [a, b, c] = [anyDouble(), anyDouble(), anyDouble()];
        if (!Number.isFinite(a * b + c) || !Number.isFinite(a * b)) continue;
        break;
      default: // rotation entries that are 0, 1 or tiny, as in gravity-aligned boxes
        a = rng.uniform(-2, 2), b = rng.pick([0, 1, -1, 2.220446049250313e-16, 3e-17]);
        c = rng.uniform(-2, 2);
    }
    const want = fmaExact(a, b, c);
    assertEquals(fma(a, b, c), want, `fma(${a}, ${b}, ${c})`);
    if (want !== a * b + c) differsFromPlain++;
    checked++;
  }
  assert(checked > 39000);
  assert(differsFromPlain > 1000, "the cases exercise the single rounding");
});

Deno.test("error-free transformations are exact", () => {
  const rng = new Rng("eft");
  for (let i = 0; i < 1000; i++) {
    const a = rng.uniform(-1e3, 1e3), b = rng.uniform(-1e-3, 1e-3);
    const [s, e] = twoSum(a, b);
    assert(s === a + b);
    // s + e = a + b exactly: checked in exact rational arithmetic via fmaExact(1, s, e) ties.
    assertEquals(fmaExact(1, s, e), s);
    const [p, q] = twoProduct(a, b);
    assert(p === a * b);
    assertEquals(fmaExact(a, b, -p), q);
  }
});
