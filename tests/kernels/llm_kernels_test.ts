// The language model's WGSL kernels against their float64 references, on misfit shapes: one
// token, 37 tokens, a cache spanning several key tiles, positions near 7,000, GQA groups 1, 2
// and 7, head dims 16, 64 and 128, f16 caches, int8/int4 weights.
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { Rng } from "../../geometry/rng.ts";
import { roundF16 } from "../../kernels/device.ts";
import { testGpu } from "../_support.ts";
import { nmse } from "../../kernels/nmse.ts";
import { rmsNorm, rmsNormRef } from "../../kernels/rms_norm.ts";
import { rope, ropeInvFreq, ropeRef, storeRows } from "../../kernels/rope.ts";
import { causalAttention, causalAttentionRef } from "../../kernels/causal_attention.ts";
import { swiglu, swigluRef } from "../../kernels/swiglu.ts";
import { embedding, embeddingRef } from "../../kernels/embedding.ts";
import { argmax, argmaxRef } from "../../kernels/argmax.ts";
import { matvec } from "../../kernels/matvec.ts";
import { linear, linearRef } from "../../kernels/linear.ts";
import { dequantizeRef, uploadQuant, type WeightFormat } from "../../kernels/linear_q.ts";
import { quantize } from "../_quantize.ts";

const maybeGpu = await testGpu();
const gpu = maybeGpu!;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !maybeGpu };
const ELEMENTWISE = 1e-7, MATMUL = 5e-4;
// f16 storage of K/V (or W) rounds each value to 11 significant bits: measured ~1e-7.
const F16_BOUND = 1e-6;
const f16Skip = !maybeGpu ? "no GPU" : gpu.f16 ? false : `adapter ${gpu.adapter} lacks shader-f16`;

function randn(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

function check(name: string, err: number, bound: number): void {
  if (Deno.env.get("VLM3R_SHOW_NMSE")) console.log(`${name}: NMSE ${err.toExponential(2)}`);
  assert(err <= bound, `${name}: NMSE ${err.toExponential(2)} > ${bound}`);
}

Deno.test(
  "rms norm: one row, 37 rows of 896, a residual added in place, a row window",
  opts,
  async () => {
    const rng = new Rng("rms");
    for (const [rows, d] of [[1, 64], [37, 896], [3, 130]]) {
      const x = randn(rng, rows * d, 2, 1), r = randn(rng, rows * d), g = randn(rng, d, 0.1, 1);
      const b = gpu.batch();
      const xt = b.upload(x, [rows, d]);
      const plain = await rmsNorm(b, b.upload(x, [rows, d]), b.upload(g, [d]), 1e-6);
      const fused = await rmsNorm(b, xt, b.upload(g, [d]), 1e-6, {
        residual: b.upload(r, [rows, d]),
      });
      const last = await rmsNorm(b, xt, b.upload(g, [d]), 1e-6, {
        rows: { start: rows - 1, count: 1 },
      });
      const [yp, yf, h, yl] = await b.read([plain, fused, xt, last]);
      const hsum = Float32Array.from(x, (v, i) => v + r[i]);
      check(`rms ${rows}x${d}`, nmse(yp, rmsNormRef(x, d, g, 1e-6)), ELEMENTWISE);
      check(`rms+res ${rows}x${d}`, nmse(yf, rmsNormRef(hsum, d, g, 1e-6)), ELEMENTWISE);
      check(`residual ${rows}x${d}`, nmse(h, hsum), ELEMENTWISE);
      check(
        `rms last row`,
        nmse(yl, rmsNormRef(hsum.subarray((rows - 1) * d), d, g, 1e-6)),
        ELEMENTWISE,
      );
    }
  },
);

Deno.test(
  "rope: head dim 128 and 16, positions near 7,000 and gapped, into an f16 cache",
  opts,
  async () => {
    const rng = new Rng("rope");
    for (const [t, heads, d, p0] of [[37, 7, 128, 6800], [1, 2, 16, 0], [5, 1, 128, 32000]]) {
      const x = randn(rng, t * heads * d);
      const pos = Uint32Array.from({ length: t }, (_, i) => p0 + (i < t / 2 ? i : 1000 + i));
      const inv = ropeInvFreq(d, 1e6);
      const b = gpu.batch();
      const xt = b.upload(x, [t, heads * d]), pt = b.upload(pos, [t]), it = b.upload(inv, [d / 2]);
      const y = await rope(b, xt, pt, { heads, invFreq: it });
      const [out] = await b.read([y]);
      const ref = ropeRef(x, pos, { heads, invFreq: inv });
      check(`rope ${t}x${heads}x${d} @${p0}`, nmse(out, ref), ELEMENTWISE);
      // Worst element: the f32 angle's cosine, not a cheap cos of a huge argument.
      const worst = out.reduce((m, v, i) => Math.max(m, Math.abs(v - ref[i])), 0);
      assert(worst < 2e-5, `rope worst element error ${worst}`);
    }
    if (f16Skip) return;
    const [t, heads, d] = [3, 2, 64];
    const x = randn(rng, t * heads * d), v = randn(rng, t * heads * d);
    const pos = Uint32Array.from([7000, 7001, 7002]);
    const b = gpu.batch();
    const cacheK = b.alloc([10, heads * d], "f16"), cacheV = b.alloc([10, heads * d], "f16");
    const inv = ropeInvFreq(d, 1e6);
    await rope(b, b.upload(x, [t, heads * d]), b.upload(pos, [t]), {
      heads,
      invFreq: b.upload(inv, [d / 2]),
      into: { y: cacheK, row: 4 },
    });
    await storeRows(b, b.upload(v, [t, heads * d]), { y: cacheV, row: 4 });
    const [k, vv] = await b.read([cacheK, cacheV]);
    const w = heads * d;
    check(
      "rope into f16 rows",
      nmse(k.subarray(4 * w, 7 * w), ropeRef(x, pos, { heads, invFreq: inv })),
      F16_BOUND,
    );
    assertEquals(Array.from(vv.subarray(4 * w, 7 * w)), Array.from(roundF16(v)));
  },
);

Deno.test(
  "causal attention: prefill, decode over several tiles and splits, GQA 1/2/7",
  opts,
  async () => {
    const rng = new Rng("causal");
    const cases = [
      { t: 1, past: 0, heads: 1, kvHeads: 1, d: 16 },
      { t: 37, past: 0, heads: 7, kvHeads: 1, d: 128 },
      { t: 5, past: 70, heads: 4, kvHeads: 2, d: 64 },
      { t: 1, past: 600, heads: 7, kvHeads: 1, d: 128 }, // decode: 3 splits of 256 keys
      { t: 1, past: 130, heads: 4, kvHeads: 2, d: 16, splits: 3 },
      { t: 20, past: 45, heads: 2, kvHeads: 2, d: 16 },
    ];
    for (const s of cases) {
      const rowsCache = s.past + s.t + 3; // spare rows beyond the valid keys must be ignored
      const q = randn(rng, s.t * s.heads * s.d), k = randn(rng, rowsCache * s.kvHeads * s.d);
      const v = randn(rng, rowsCache * s.kvHeads * s.d);
      const ref = causalAttentionRef(q, k.subarray(0, (s.past + s.t) * s.kvHeads * s.d), v, {
        ...s,
      });
      const b = gpu.batch();
      const kw = s.kvHeads * s.d;
      const o = await causalAttention(
        b,
        b.upload(q, [s.t, s.heads * s.d]),
        b.upload(k, [rowsCache, kw]),
        b.upload(v, [rowsCache, kw]),
        s,
      );
      const [out] = await b.read([o]);
      check(`attention ${JSON.stringify(s)}`, nmse(out, ref), MATMUL);
    }
    if (f16Skip) return;
    const s = { t: 9, past: 40, heads: 7, kvHeads: 1, d: 128 };
    const q = randn(rng, s.t * s.heads * s.d);
    const k = roundF16(randn(rng, (s.past + s.t) * s.d)),
      v = roundF16(randn(rng, (s.past + s.t) * s.d));
    const b = gpu.batch();
    const o = await causalAttention(
      b,
      b.upload(q, [s.t, s.heads * s.d]),
      b.upload(k, [s.past + s.t, s.d], "f16"),
      b.upload(v, [s.past + s.t, s.d], "f16"),
      s,
    );
    const [out] = await b.read([o]);
    check("attention f16 cache", nmse(out, causalAttentionRef(q, k, v, s)), MATMUL);
  },
);

Deno.test("swiglu and the embedding gather over row parts", opts, async () => {
  const rng = new Rng("mlp");
  const [m, i] = [37, 400];
  const gu = randn(rng, m * 2 * i, 2);
  const gate = new Float32Array(m * i), up = new Float32Array(m * i);
  for (let r = 0; r < m; r++) {
    gate.set(gu.subarray(r * 2 * i, r * 2 * i + i), r * i);
    up.set(gu.subarray(r * 2 * i + i, (r + 1) * 2 * i), r * i);
  }
  const table = randn(rng, 100 * 24);
  const ids = Uint32Array.from([99, 0, 50, 51, 49, 7]);
  const b = gpu.batch();
  const y = await swiglu(b, b.upload(gu, [m, 2 * i]));
  const parts = [0, 50, 80].map((row0, j, a) => ({
    table: b.upload(table.slice(row0 * 24, (a[j + 1] ?? 100) * 24), [(a[j + 1] ?? 100) - row0, 24]),
    row0,
  }));
  const e = await embedding(b, parts, b.upload(ids, [6]), { at: 1, count: 5 });
  const [sy, ey] = await b.read([y, e]);
  check("swiglu", nmse(sy, swigluRef(gate, up)), ELEMENTWISE);
  assertEquals(Array.from(ey), Array.from(embeddingRef(table, 24, ids.subarray(1))));
});

Deno.test("argmax: repetition penalty on generated ids, ties, a vocabulary cut", opts, async () => {
  const rng = new Rng("argmax");
  const v = 10007;
  const logits = randn(rng, v);
  const top = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]);
  logits[top[0]] = logits[top[1]] * 1.01; // the penalty must flip the choice
  logits[9000] = -5;
  const generated = [top[0], 9000, 17];
  const seen = new Uint32Array(Math.ceil(v / 32));
  for (const id of generated) seen[id >> 5] |= 1 << (id & 31);
  const b = gpu.batch();
  const seenT = b.upload(seen, [seen.length]);
  const lt = b.upload(logits, [v]);
  const plain = await argmax(b, lt);
  const pen = await argmax(b, lt, { penalty: 1.05, seen: seenT });
  const cut = await argmax(b, lt, { n: 100 });
  const [p, q, c, bits] = await b.read([plain, pen, cut, seenT]);
  assertEquals(p[0], argmaxRef(logits));
  assertEquals(q[0], argmaxRef(logits, { penalty: 1.05, generated }));
  assert(q[0] !== p[0], "the penalty should change the choice");
  assertEquals(c[0], argmaxRef(logits, { n: 100 }));
  assert((bits[q[0] >> 5] >> (q[0] & 31)) & 1, "the chosen id joins the bitset");
  // Ties go to the first index, as torch.argmax.
  const b2 = gpu.batch();
  const [t] = await b2.read([await argmax(b2, b2.upload(new Float32Array([0, 2, 1, 2]), [4]))]);
  assertEquals(t[0], 1);
});

Deno.test("matvec and the GEMM read f32, f16, int8 and int4 weights", opts, async () => {
  const rng = new Rng("quant");
  const [n, k] = [70, 264]; // int4: two full 128-groups and a partial one
  const w = randn(rng, n * k, 0.2), bias = randn(rng, n, 0.1);
  const formats: WeightFormat[] = ["f32", "int8", "int4", ...(f16Skip ? [] : ["f16" as const])];
  for (const format of formats) {
    const b = gpu.batch();
    let weight, wRef: ArrayLike<number>;
    if (format === "f32" || format === "f16") {
      wRef = format === "f16" ? roundF16(w) : w;
      weight = b.upload(w, [n, k], format);
    } else {
      const q = quantize(format, w, n, k);
      weight = uploadQuant(gpu, format, [n, k], q.codes, q.scales);
      wRef = dequantizeRef(format, q.codes, q.scaleValues, n, k);
      // The quantiser's own error, for the record (int8 ~1e-5, int4 ~5e-3 relative).
      if (Deno.env.get("VLM3R_SHOW_NMSE")) {
        console.log(`${format} weights: NMSE ${nmse(wRef, w).toExponential(2)}`);
      }
    }
    const bt = b.upload(bias, [n]);
    const xm = randn(rng, 3 * k);
    const [mv] = await b.read([await matvec(b, b.upload(xm, [3, k]), weight, bt)]);
    check(`matvec ${format}`, nmse(mv, linearRef(xm, wRef, bias, k)), MATMUL);
    // GEMM (windowed on CPU adapters, tiled otherwise), 37 rows, into a column block.
    const b2 = gpu.batch();
    const weight2 = format === "f32" || format === "f16" ? b2.upload(w, [n, k], format) : weight;
    const x = randn(rng, 37 * k);
    const y = b2.alloc([37, n + 4]);
    b2.clear(y.buffer);
    await linear(b2, b2.upload(x, [37, k]), weight2, b2.upload(bias, [n]), { into: { y, col: 4 } });
    const [out] = await b2.read([y]);
    const ref = linearRef(x, wRef, bias, k);
    const got = Float32Array.from(
      { length: 37 * n },
      (_, i) => out[Math.floor(i / n) * (n + 4) + 4 + (i % n)],
    );
    check(`linear ${format} into`, nmse(got, ref), MATMUL);
  }
  const b = gpu.batch();
  await assertRejects(
    () =>
      matvec(
        b,
        b.upload(new Float32Array(6), [1, 6]),
        b.upload(new Float32Array(12), [2, 6]),
        b.upload(new Float32Array(2), [2]),
      ),
    /^kernel matvec: K = 6 is not a multiple of 8/,
  );
});
