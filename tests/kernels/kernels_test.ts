// Every WGSL kernel against its float64 TypeScript reference, on shapes that are not tile
// multiples, single keys and frames, and extreme logits; plus the device layer's errors.
import { assert, assertRejects } from "../assert.ts";
import { Rng } from "../../geometry/rng.ts";
import { acquireGpu, GpuUnavailableError, KernelError, roundF16 } from "../../kernels/device.ts";
import { layerNorm, layerNormRef } from "../../kernels/layer_norm.ts";
import { linear, linearRef } from "../../kernels/linear.ts";
import { attention, attentionRef } from "../../kernels/attention.ts";
import { residualAdd, residualAddRef } from "../../kernels/residual.ts";
import { poolNewline, poolNewlineRef } from "../../kernels/pool.ts";
import { nmse } from "../../kernels/nmse.ts";
import { testGpu } from "../_support.ts";

const maybeGpu = await testGpu();
const gpu = maybeGpu!;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !maybeGpu };
const ELEMENTWISE = 1e-7, MATMUL = 5e-4;
// f16 storage rounds every input and output to 11 significant bits (relative 2^-12 = 2.4e-4
// per value, squared ~6e-8); measured 1e-7 to 2e-7 NMSE, so the documented bound is 1e-6.
const F16_BOUND = 1e-6;
const f16Skip = !maybeGpu ? "no GPU" : gpu.f16 ? false : `adapter ${gpu.adapter} lacks shader-f16`;
if (maybeGpu && f16Skip) console.log(`f16 kernel tests skipped: ${f16Skip}`);

function randn(rng: Rng, n: number, scale = 1, offset = 0): Float32Array {
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

function check(name: string, err: number, bound: number): void {
  if (Deno.env.get("VLM3R_SHOW_NMSE")) console.log(`${name}: NMSE ${err.toExponential(2)}`);
  assert(err <= bound, `${name}: NMSE ${err.toExponential(2)} > ${bound}`);
}

Deno.test("layer norm matches the float64 reference (odd widths, large mean)", opts, async () => {
  const rng = new Rng("ln");
  for (const [rows, cols] of [[5, 130], [1, 1], [3, 1152]]) {
    const x = randn(rng, rows * cols, 3, 100), g = randn(rng, cols), b = randn(rng, cols);
    const bt = gpu.batch();
    const y = await layerNorm(
      bt,
      bt.upload(x, [rows, cols]),
      bt.upload(g, [cols]),
      bt.upload(b, [cols]),
    );
    const [out] = await bt.read([y]);
    check(`layer_norm ${rows}x${cols}`, nmse(out, layerNormRef(x, cols, g, b)), ELEMENTWISE);
  }
});

Deno.test("linear matches the reference for any M, N, K, with and without GELU", opts, async () => {
  const rng = new Rng("linear");
  for (const [m, n, k] of [[67, 45, 37], [1, 1, 1], [130, 70, 200]]) {
    const x = randn(rng, m * k), w = randn(rng, n * k, 0.3), b = randn(rng, n);
    for (const gelu of [false, true]) {
      const bt = gpu.batch();
      const y = await linear(bt, bt.upload(x, [m, k]), bt.upload(w, [n, k]), bt.upload(b, [n]), {
        gelu,
      });
      const naive = gelu
        ? null
        : await linear(bt, bt.upload(x, [m, k]), bt.upload(w, [n, k]), bt.upload(b, [n]), {
          naive: true,
        });
      const [out, outNaive] = await bt.read(naive ? [y, naive] : [y]);
      const ref = linearRef(x, w, b, k, { gelu });
      check(`linear ${m}x${k}->${n} gelu=${gelu}`, nmse(out, ref), MATMUL);
      if (outNaive) check(`linear_naive ${m}x${k}->${n}`, nmse(outNaive, ref), MATMUL);
    }
  }
});

Deno.test(
  "the uniform-window linear matches the reference: partial windows, several depths, GELU",
  opts,
  async () => {
    const rng = new Rng("linear-window");
    // Rows short of a window, two and three depth windows, rows an exact window multiple (Y
    // written in place), f16 W where the adapter has it.
    const cases = [
      [67, 64, 37, false, "f32"],
      [130, 96, 300, true, "f32"],
      [64, 32, 513, false, "f32"],
      ...(gpu.f16 ? [[70, 32, 260, true, "f16"] as const] : []),
    ] as const;
    for (const [m, n, k, gelu, wt] of cases) {
      const x = randn(rng, m * k), b = randn(rng, n);
      const w = wt === "f16" ? roundF16(randn(rng, n * k, 0.3)) : randn(rng, n * k, 0.3);
      const bt = gpu.batch();
      const up = () => [bt.upload(x, [m, k]), bt.upload(w, [n, k], wt), bt.upload(b, [n])] as const;
      const y = await linear(bt, ...up(), { gelu, windowed: true });
      const tiled = await linear(bt, ...up(), { gelu, windowed: false });
      const [out, outTiled] = await bt.read([y, tiled]);
      const ref = linearRef(x, w, b, k, { gelu });
      check(`linear window ${m}x${k}->${n} gelu=${gelu} w=${wt}`, nmse(out, ref), MATMUL);
      check(`linear tiled ${m}x${k}->${n} gelu=${gelu} w=${wt}`, nmse(outTiled, ref), MATMUL);
    }
    const bt = gpu.batch();
    await assertRejects(
      () =>
        linear(
          bt,
          bt.upload(new Float32Array(6), [2, 3]),
          bt.upload(new Float32Array(15), [5, 3]),
          bt.upload(new Float32Array(5), [5]),
          { windowed: true },
        ),
      /^kernel linear: window kernel: N = 5 is not a multiple of 32/,
    );
  },
);

Deno.test(
  "linear with f16 storage and f32 accumulation",
  { ...opts, ignore: !!f16Skip },
  async () => {
    const rng = new Rng("linear16");
    const [m, n, k] = [67, 45, 130];
    const x = randn(rng, m * k), w = randn(rng, n * k, 0.3), b = randn(rng, n);
    // The combinations the f16 fusion path uses (so shader caches are shared with its test).
    const combos = [["f32", "f16", false], ["f16", "f32", false], ["f32", "f32", true]] as const;
    for (const [xt, yt, gelu] of combos) {
      const bt = gpu.batch();
      const y = await linear(
        bt,
        bt.upload(x, [m, k], xt),
        bt.upload(w, [n, k], "f16"),
        bt.upload(b, [n]),
        { gelu, out: yt },
      );
      const [out] = await bt.read([y]);
      check(
        `linear f16 x=${xt} y=${yt} gelu=${gelu}`,
        nmse(out, linearRef(x, w, b, k, { gelu })),
        F16_BOUND,
      );
    }
  },
);

Deno.test("attention matches the reference: odd sizes, one key, head dim 64", opts, async () => {
  const rng = new Rng("attention");
  const cases = [
    { batch: 2, nq: 70, nk: 45, heads: 3, d: 16 },
    { batch: 1, nq: 5, nk: 1, heads: 2, d: 16 },
    { batch: 1, nq: 65, nk: 33, heads: 2, d: 64 },
    // Three key windows of 256 (the window kernel carries its softmax state between them).
    { batch: 2, nq: 37, nk: 600, heads: 2, d: 64 },
  ];
  for (const s of cases) {
    const w = s.heads * s.d;
    const q = randn(rng, s.batch * s.nq * w), k = randn(rng, s.batch * s.nk * w);
    const v = randn(rng, s.batch * s.nk * w);
    const ref = attentionRef(q, k, v, s);
    // Both kernels where the window kernel is the CPU default (D = 64).
    for (const windowed of s.d === 64 ? [true, false] : [undefined]) {
      const bt = gpu.batch();
      const o = await attention(
        bt,
        bt.upload(q, [s.batch, s.nq, w]),
        bt.upload(k, [s.batch, s.nk, w]),
        bt.upload(v, [s.batch, s.nk, w]),
        { ...s, windowed },
      );
      const [out] = await bt.read([o]);
      check(`attention ${JSON.stringify(s)} windowed=${windowed}`, nmse(out, ref), MATMUL);
    }
  }
});

Deno.test("attention stays finite and exact with logits of +-1e4", opts, async () => {
  const rng = new Rng("logits");
  // 700 keys: three windows of the window kernel, the maximum moving between them.
  const s = { batch: 1, nq: 40, nk: 700, heads: 1, d: 64 };
  // Scores q.k/8 = +-1e4 exactly for one-hot rows of magnitudes 200 and 400.
  const q = new Float32Array(s.nq * s.d), k = new Float32Array(s.nk * s.d);
  for (let i = 0; i < s.nq; i++) q[i * s.d + (i % s.d)] = rng.chance(0.5) ? 200 : -200;
  for (let j = 0; j < s.nk; j++) k[j * s.d + rng.int(0, s.d - 1)] = rng.chance(0.5) ? 400 : -400;
  const v = randn(rng, s.nk * s.d);
  const ref = attentionRef(q, k, v, s);
  for (const windowed of [true, false]) {
    const bt = gpu.batch();
    const o = await attention(
      bt,
      bt.upload(q, [1, s.nq, s.d]),
      bt.upload(k, [1, s.nk, s.d]),
      bt.upload(v, [1, s.nk, s.d]),
      { ...s, windowed },
    );
    const [out] = await bt.read([o]);
    assert(out.every(Number.isFinite), `windowed=${windowed}: non-finite output`);
    check(`attention +-1e4 windowed=${windowed}`, nmse(out, ref), MATMUL);
  }
});

Deno.test("attention with f16 storage", { ...opts, ignore: !!f16Skip }, async () => {
  const rng = new Rng("attention16");
  const s = { batch: 2, nq: 50, nk: 37, heads: 4, d: 16 };
  const w = s.heads * s.d;
  const q = randn(rng, s.batch * s.nq * w), k = randn(rng, s.batch * s.nk * w);
  const v = randn(rng, s.batch * s.nk * w);
  const bt = gpu.batch();
  const o = await attention(
    bt,
    bt.upload(q, [2, s.nq, w], "f16"),
    bt.upload(k, [2, s.nk, w], "f16"),
    bt.upload(v, [2, s.nk, w], "f16"),
    s,
  );
  const [out] = await bt.read([o]);
  check("attention f16", nmse(out, attentionRef(q, k, v, s)), F16_BOUND);
  // The f16 result is the f32 one up to storage rounding, not something else.
  check(
    "attention f16 vs rounded inputs",
    nmse(out, attentionRef(roundF16(q), roundF16(k), roundF16(v), s)),
    F16_BOUND / 2,
  );
});

Deno.test("residual add and pooling match their references", opts, async () => {
  const rng = new Rng("pool");
  const a = randn(rng, 1001), b = randn(rng, 1001);
  for (const [frames, g, c] of [[2, 7, 5], [1, 27, 3], [1, 1, 2]]) {
    const x = randn(rng, frames * g * g * c), nl = randn(rng, c);
    const bt = gpu.batch();
    const xt = bt.upload(x, [frames, g * g, c]), nlt = bt.upload(nl, [c]);
    const pooled = await poolNewline(bt, xt);
    const seq = await poolNewline(bt, xt, { newline: nlt });
    const same = await poolNewline(bt, xt, { size: g, newline: nlt });
    const sum = await residualAdd(bt, bt.upload(a, [7, 143]), bt.upload(b, [7, 143]));
    const [p, sq, sm, y] = await bt.read([pooled, seq, same, sum]);
    const s = { frames, channels: c };
    check(`pool ${g}`, nmse(p, poolNewlineRef(x, s)), ELEMENTWISE);
    check(`pool+newline ${g}`, nmse(sq, poolNewlineRef(x, { ...s, newline: nl })), ELEMENTWISE);
    check(
      `newline only ${g}`,
      nmse(sm, poolNewlineRef(x, { ...s, size: g, newline: nl })),
      ELEMENTWISE,
    );
    check("residual", nmse(y, residualAddRef(a, b)), ELEMENTWISE);
  }
  // 27 -> 14: the source coordinates of model-reference.md section 1.5.
  const axis = [0.464, 2.393, 4.321, 6.25, 8.179, 10.107, 12.036, 13.964, 15.893, 17.821, 19.75];
  const ramp = Float32Array.from({ length: 27 * 27 }, (_, i) => i % 27);
  const ref = poolNewlineRef(ramp, { frames: 1, channels: 1 });
  for (let o = 0; o < axis.length; o++) {
    assert(Math.abs(ref[o] - axis[o]) < 1e-3, `axis ${o}: ${ref[o]}`);
  }
});

Deno.test("errors name the kernel; compiled pipelines are cached", opts, async () => {
  const bt = gpu.batch();
  const x = bt.upload(new Float32Array(6), [2, 3]);
  await assertRejects(
    () =>
      linear(bt, x, bt.upload(new Float32Array(8), [2, 4]), bt.upload(new Float32Array(2), [2])),
    /^kernel linear: x: expected last axis 4/,
  );
  await assertRejects(
    () => gpu.pipeline("broken_kernel", "fn main( {"),
    /^kernel broken_kernel: shader:/,
  );
  const before = gpu.cachedPipelines;
  const ok1 = await linear(
    bt,
    x,
    bt.upload(new Float32Array(6), [2, 3]),
    bt.upload(new Float32Array(2), [2]),
  );
  const ok2 = await linear(
    bt,
    x,
    bt.upload(new Float32Array(6), [2, 3]),
    bt.upload(new Float32Array(2), [2]),
  );
  assert(gpu.cachedPipelines <= before + 1, "the second linear compiled again");
  // A dispatch with a missing binding fails validation at submit, named after its kernel.
  const pipeline = await gpu.pipeline(
    "residual_add",
    (await import("../../kernels/residual.ts")).residualWgsl(),
  );
  bt.dispatch("residual_add", pipeline, [x.buffer], null, [1]);
  const err = await assertRejects(() => bt.read([ok1, ok2]), /^kernel residual_add: /);
  assert(err instanceof KernelError && err.kernel === "residual_add");
  await assertRejects(() => bt.read([]), /already submitted/);
});

Deno.test("a clear error when there is no adapter", async () => {
  const fake = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
  const e = await assertRejects(
    () => acquireGpu({ gpu: fake }),
    /no WebGPU device: requestAdapter\(\) found no adapter/,
  );
  assert(e instanceof GpuUnavailableError);
});
