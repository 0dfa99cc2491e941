// The kernels the vision towers add, each against its float64 reference: tanh-GELU, 2D RoPE
// (with the pose token's negative position), patch embedding (dropping the border), the
// position-embedding add and the token mean; and attention at every head dimension VLM-3R and
// its goldens use, self and cross.
import { testGpu } from "../_support.ts";
import { assert, assertEquals } from "../assert.ts";
import { Rng } from "../../geometry/rng.ts";
import { roundF16 } from "../../kernels/device.ts";
import { nmse } from "../../kernels/nmse.ts";
import { attention, attentionRef, keysPerTile } from "../../kernels/attention.ts";
import { geluTanh, geluTanhRef } from "../../kernels/gelu.ts";
import { rope2d, rope2dRef, rope2dTable } from "../../kernels/rope2d.ts";
import { patchEmbed, patchEmbedRef } from "../../kernels/patch_embed.ts";
import { addPositionEmbedding, addPositionEmbeddingRef } from "../../kernels/pos_embed.ts";
import { tokenMean, tokenMeanRef } from "../../kernels/token_mean.ts";
import { layerNorm, layerNormRef } from "../../kernels/layer_norm.ts";

const maybeGpu = await testGpu();
const gpu = maybeGpu!;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !maybeGpu };
const ELEMENTWISE = 1e-7, MATMUL = 5e-4;
// f16 storage: see tests/kernels/kernels_test.ts.
const F16_BOUND = 1e-6;

function randn(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

function check(name: string, err: number, bound: number): void {
  if (Deno.env.get("VLM3R_SHOW_NMSE")) console.log(`${name}: NMSE ${err.toExponential(2)}`);
  assert(err <= bound, `${name}: NMSE ${err.toExponential(2)} > ${bound}`);
}

Deno.test("tanh GELU matches the reference, tails included", opts, async () => {
  const rng = new Rng("gelu-tanh");
  const x = Float32Array.from([...randn(rng, 997, 3), -100, -12, -5, 0, 1e-8, 5, 12, 100]);
  const bt = gpu.batch();
  const [y] = await bt.read([await geluTanh(bt, bt.upload(x, [x.length]))]);
  check("gelu_tanh", nmse(y, Array.from(x, geluTanhRef)), ELEMENTWISE);
  assert(y.every(Number.isFinite), "non-finite tanh-GELU");
  // The tanh form differs from the erf form by up to ~1e-3: the kernel is not the erf one.
  assert(Math.abs(geluTanhRef(-2) - -0.04540230) < 1e-7);
});

Deno.test("layer norm with SigLIP's and CUT3R's eps 1e-6", opts, async () => {
  const rng = new Rng("ln-eps");
  // A nearly constant row: eps dominates the variance, so 1e-5 and 1e-6 give different results.
  const cols = 144, x = randn(rng, 3 * cols, 1e-3, 2), g = randn(rng, cols), b = randn(rng, cols);
  const bt = gpu.batch();
  const y = await layerNorm(
    bt,
    bt.upload(x, [3, cols]),
    bt.upload(g, [cols]),
    bt.upload(b, [cols]),
    1e-6,
  );
  const [out] = await bt.read([y]);
  check("layer_norm eps 1e-6", nmse(out, layerNormRef(x, cols, g, b, 1e-6)), ELEMENTWISE);
  assert(nmse(out, layerNormRef(x, cols, g, b, 1e-5)) > 1e-3, "eps was not used");
});

Deno.test("2D RoPE: every head dimension of CUT3R, the pose token at (-1, -1)", opts, async () => {
  const rng = new Rng("rope");
  // Image-branch positions: the pose token, then a 3x3 patch grid; CUT3R's state grid of width
  // 6 (27 tokens in cut3r-tiny) for the other case.
  const img = [-1, -1, ...Array.from({ length: 9 }, (_, i) => [Math.floor(i / 3), i % 3]).flat()];
  const state = Array.from({ length: 27 }, (_, j) => [Math.floor(j / 6), j % 6]).flat();
  const cases = [
    { pos: img, heads: 3, d: 16, batch: 2 },
    { pos: img, heads: 1, d: 64, batch: 1 },
    { pos: state, heads: 4, d: 12, batch: 1 },
    { pos: state, heads: 16, d: 48, batch: 1 },
  ];
  for (const c of cases) {
    const n = c.pos.length / 2, w = c.heads * c.d;
    const x = randn(rng, c.batch * n * w);
    const bt = gpu.batch();
    const tab = bt.upload(rope2dTable(c.pos, c.d), [n, c.d]);
    const [y] = await bt.read([await rope2d(bt, bt.upload(x, [c.batch, n, w]), tab, c.heads)]);
    const ref = rope2dRef(x, c.pos, { heads: c.heads, headDim: c.d });
    check(`rope2d d${c.d} h${c.heads}`, nmse(y, ref), ELEMENTWISE);
  }
  // (-1, -1) turns the first pair by -1 rad: the opposite of (1, 1).
  const one = new Float32Array([1, 0, 0, 0]);
  assertEquals(
    Array.from(rope2dRef(one, [-1, -1], { heads: 1, headDim: 4 }), (v) => +v.toFixed(6)),
    [+Math.cos(-1).toFixed(6), +Math.sin(-1).toFixed(6), 0, 0],
  );
});

Deno.test("2D RoPE with f16 storage", { ...opts, ignore: !maybeGpu?.f16 }, async () => {
  const rng = new Rng("rope16");
  const pos = [-1, -1, 0, 0, 0, 1, 3, 2], n = 4, d = 64;
  const x = randn(rng, n * 2 * d);
  const bt = gpu.batch();
  const tab = bt.upload(rope2dTable(pos, d), [n, d]);
  const [y] = await bt.read([await rope2d(bt, bt.upload(x, [1, n, 2 * d], "f16"), tab, 2)]);
  check("rope2d f16", nmse(y, rope2dRef(roundF16(x), pos, { heads: 2, headDim: d })), F16_BOUND);
});

Deno.test("patch embedding drops the border a patch grid leaves", opts, async () => {
  const rng = new Rng("patch");
  // SigLIP-like: 14-px patches on 47x44 images (3x3 tokens, 5 and 2 border pixels dropped);
  // CUT3R-like: 16-px patches on 32x32 (exact fit).
  for (
    const g of [{ channels: 3, height: 47, width: 44, patch: 14, d: 40, frames: 2 }, {
      channels: 3,
      height: 32,
      width: 32,
      patch: 16,
      d: 64,
      frames: 1,
    }]
  ) {
    const k = g.channels * g.patch * g.patch;
    const px = randn(rng, g.frames * g.channels * g.height * g.width);
    const w = randn(rng, g.d * k, 1 / Math.sqrt(k)), b = randn(rng, g.d, 0.1);
    const bt = gpu.batch();
    const y = await patchEmbed(
      bt,
      bt.upload(px, [g.frames, g.channels, g.height, g.width]),
      bt.upload(w, [g.d, k]),
      bt.upload(b, [g.d]),
      g.patch,
    );
    const gh = Math.floor(g.height / g.patch), gw = Math.floor(g.width / g.patch);
    assertEquals(y.shape, [g.frames, gh * gw, g.d]);
    const [out] = await bt.read([y]);
    check(`patch_embed p${g.patch}`, nmse(out, patchEmbedRef(px, w, b, g)), MATMUL);
  }
  // The border does not reach the result: changing it changes nothing.
  const g = { channels: 1, height: 5, width: 5, patch: 2 };
  const px = Float32Array.from({ length: 25 }, (_, i) => i);
  const edged = px.map((v, i) => (i % 5 === 4 || i >= 20 ? 1e6 : v));
  const w = new Float32Array([1, 2, 3, 4]);
  assertEquals(patchEmbedRef(px, w, [0], g), patchEmbedRef(edged, w, [0], g));
});

Deno.test("position-embedding add and token mean match their references", opts, async () => {
  const rng = new Rng("pos");
  const x = randn(rng, 3 * 49 * 20), table = randn(rng, 49 * 20);
  const f = randn(rng, 2 * 729 * 24, 2, 5);
  const bt = gpu.batch();
  const y = await addPositionEmbedding(bt, bt.upload(x, [3, 49, 20]), bt.upload(table, [49, 20]));
  const m = await tokenMean(bt, bt.upload(f, [2, 729, 24]));
  assertEquals(m.shape, [2, 1, 24]);
  const [yo, mo] = await bt.read([y, m]);
  check("pos_embed", nmse(yo, addPositionEmbeddingRef(x, table)), ELEMENTWISE);
  check("token_mean", nmse(mo, tokenMeanRef(f, 729, 24)), ELEMENTWISE);
});

Deno.test(
  "attention at head dims 72, 48, 128, 8, 12 and 32, self and cross",
  opts,
  async () => {
    const rng = new Rng("attention-dims");
    const cases = [
      { batch: 2, nq: 49, nk: 49, heads: 2, d: 72 }, // SigLIP (siglip-small, vlm3r-tiny)
      { batch: 1, nq: 30, nk: 17, heads: 4, d: 48 }, // CUT3R state branch, cross
      { batch: 1, nq: 1, nk: 40, heads: 1, d: 128 }, // pose memory read: one query
      { batch: 1, nq: 40, nk: 1, heads: 1, d: 128 }, // pose memory write: one key
      { batch: 3, nq: 49, nk: 50, heads: 18, d: 8 }, // vlm3r-tiny fusion
      { batch: 1, nq: 27, nk: 17, heads: 4, d: 12 }, // cut3r-tiny state branch
      { batch: 1, nq: 8, nk: 1, heads: 3, d: 32 }, // cut3r-tiny pose memory
    ];
    for (const s of cases) {
      const w = s.heads * s.d;
      const q = randn(rng, s.batch * s.nq * w), k = randn(rng, s.batch * s.nk * w);
      const v = randn(rng, s.batch * s.nk * w);
      const bt = gpu.batch();
      const o = await attention(
        bt,
        bt.upload(q, [s.batch, s.nq, w]),
        bt.upload(k, [s.batch, s.nk, w]),
        bt.upload(v, [s.batch, s.nk, w]),
        s,
      );
      const [out] = await bt.read([o]);
      check(`attention ${JSON.stringify(s)}`, nmse(out, attentionRef(q, k, v, s)), MATMUL);
    }
    // Wide heads take fewer keys per tile where workgroup memory is short.
    assertEquals([keysPerTile(72, 32768), keysPerTile(128, 32768), keysPerTile(256, 16384)], [
      32,
      32,
      8,
    ]);
  },
);

Deno.test("attention: the window kernel at head dim 72 (SigLIP's, 2 heads)", opts, async () => {
  const rng = new Rng("attention-72w");
  const s = { batch: 1, nq: 40, nk: 300, heads: 2, d: 72 };
  const w = s.heads * s.d;
  const q = randn(rng, s.nq * w), k = randn(rng, s.nk * w), v = randn(rng, s.nk * w);
  for (const windowed of [true, false]) {
    const bt = gpu.batch();
    const o = await attention(
      bt,
      bt.upload(q, [1, s.nq, w]),
      bt.upload(k, [1, s.nk, w]),
      bt.upload(v, [1, s.nk, w]),
      { ...s, windowed },
    );
    const [out] = await bt.read([o]);
    check(`attention d72 windowed=${windowed}`, nmse(out, attentionRef(q, k, v, s)), MATMUL);
  }
});
