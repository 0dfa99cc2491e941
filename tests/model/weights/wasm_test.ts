// The WebAssembly conversion kernels against the TypeScript they replace: f16 rounding against
// toF16Bytes over every bf16 value and random f32 bit patterns, bf16 widening against
// widenBytes, and the LoRA merge against release.ts's loraMerge, bit for bit, on shapes with
// every kind of remainder, on one thread and split over workers.
import { assert, assertEquals } from "../../assert.ts";
import { sharedFixture } from "../../_support.ts";
import { toF16Bytes } from "../../../kernels/device.ts";
import { loraMerge, openRelease, tensorPlan } from "../../../model/weights/release.ts";
import { widenBytes } from "../../../model/weights/safetensors.ts";
import { readAt } from "../../../model/weights/zip.ts";
import { Kernels } from "../../../model/weights/wasm/mod.ts";

/** A seeded xorshift32 stream of u32. */
function bits(n: number, seed: number): Uint32Array {
  const out = new Uint32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s >>> 0;
  }
  return out;
}

function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

Deno.test("f32 -> f16 and bf16 -> f16/f32 equal toF16Bytes and widenBytes bit for bit", () => {
  using k = Kernels.create();
  // Every bf16 value as f32, then random f32 patterns (all exponents, NaNs, subnormals), then
  // values around the rounding edges; an odd count leaves a scalar tail.
  const edges = [
    0x477fefff, // just below 65520: rounds to 65504
    0x477ff000, // 65520: a tie that rounds to infinity
    0x387fffff, // largest f32 below 2^-14: rounds up to the smallest normal
    0x33000000, // 2^-25: a tie that rounds to zero
    0x33000001, // just above: the smallest subnormal
    0x7f800001, // a signalling NaN
    0xff800000, // -infinity
    0x80000000, // -0
    0x00000001, // the smallest f32 subnormal
  ];
  const n = 65536 + 100_003 + edges.length;
  const u = new Uint32Array(n);
  for (let i = 0; i < 65536; i++) u[i] = i << 16;
  u.set(bits(100_003, 7), 65536);
  u.set(edges, 65536 + 100_003);
  k.reserve(n * 8);
  new Uint32Array(k.memory.buffer, 0, n).set(u);
  const want = new Uint16Array(toF16Bytes(new Float32Array(u.buffer)).buffer);
  k.f32ToF16(0, n * 4, n);
  const got = new Uint16Array(k.memory.buffer, n * 4, n);
  const at = firstDiff(got, want);
  assert(
    at === -1,
    `f32ToF16 differs at ${at}: ${u[at]?.toString(16)} -> ${got[at]} not ${want[at]}`,
  );
  // In place, as convert runs it.
  new Uint32Array(k.memory.buffer, 0, n).set(u);
  k.f32ToF16(0, 0, n);
  assertEquals(firstDiff(new Uint16Array(k.memory.buffer, 0, n), want), -1, "in place");

  const bf = Uint16Array.from({ length: 65536 + 5 }, (_, i) => i & 0xffff);
  new Uint16Array(k.memory.buffer, 0, bf.length).set(bf);
  k.bf16ToF32(0, 1 << 20, bf.length);
  const wide = widenBytes(new Uint8Array(bf.buffer), "BF16", "test");
  assertEquals(firstDiff(new Float32Array(k.memory.buffer, 1 << 20, bf.length), wide), -1);
  k.bf16ToF16(0, 0, bf.length);
  const want16 = new Uint16Array(toF16Bytes(wide).buffer);
  assertEquals(firstDiff(new Uint16Array(k.memory.buffer, 0, bf.length), want16), -1);
});

/** Runs the WebAssembly merge on copies of `w`, `b`, `a` and returns the merged `w`. */
async function wasmMerge(
  k: Kernels,
  w: Float32Array,
  b: Float32Array,
  a: Float32Array,
  inp: number,
  scale: number,
): Promise<Float32Array> {
  const rows = w.length / inp, r = a.length / inp;
  // Offsets of whole elements but not of whole vectors, as convert's layout never gives.
  const wAt = 64 + 4, aAt = wAt + w.length * 4 + 8, b4 = aAt + a.length * 4 + 12;
  const stage = b4 + Kernels.bBytes(rows, r);
  k.reserve(stage + b.length * 4);
  new Float32Array(k.memory.buffer, wAt, w.length).set(w);
  new Float32Array(k.memory.buffer, aAt, a.length).set(a);
  new Float32Array(k.memory.buffer, stage, b.length).set(b);
  k.prepareB(stage, b4, b.length);
  await k.loraMerge({ w: wAt, b4, a: aAt, rows, inp, r, scale });
  return new Float32Array(k.memory.buffer, wAt, w.length).slice();
}

Deno.test("the WebAssembly LoRA merge equals loraMerge bit for bit, on one thread and on workers", async () => {
  const one = Kernels.create({ workers: 1 });
  const pool = Kernels.create({ workers: 3, minParallel: 0 });
  try {
    // rows % 4, columns % 8 and columns past one 512-wide panel all left over.
    for (const [rows, inp, r] of [[1, 3, 1], [7, 13, 3], [9, 517, 5], [70, 1040, 16]]) {
      const u = (n: number, seed: number, s: number) =>
        Float32Array.from(bits(n, seed), (x) => (x / 2 ** 31 - 1) * s);
      const w = u(rows * inp, 1, 1), b = u(rows * r, 2, 0.02), a = u(r * inp, 3, 0.02);
      b[0] = 0; // a zero B entry is multiplied like any other
      const want = w.slice();
      loraMerge(want, b, a, inp, 2);
      const single = await wasmMerge(one, w, b, a, inp, 2);
      assertEquals(firstDiff(single, want), -1, `${rows}x${inp} r=${r}, one thread`);
      const split = await wasmMerge(pool, w, b, a, inp, 0.5);
      const want2 = w.slice();
      loraMerge(want2, b, a, inp, 0.5);
      assertEquals(firstDiff(split, want2), -1, `${rows}x${inp} r=${r}, three workers`);
    }
  } finally {
    await one.close();
    await pool.close();
  }
});

const dir = sharedFixture("vlm3r-tiny");
Deno.test({
  name: "a release's tensor plans: the stored rows are what readRaw reads; wrappers have none",
  ignore: dir === undefined,
}, async () => {
  const r = await openRelease({
    base: `${dir}/base`,
    lora: `${dir}/lora`,
    cut3r: `${dir}/cut3r/cut3r_tiny.pth`,
    siglip: `${dir}/siglip`,
  });
  let located = 0;
  for (const name of r.source.names) {
    const plan = tensorPlan(r.source, name);
    const origin = r.origin.get(name)!;
    assertEquals(plan?.lora !== undefined, origin.includes("+ LoRA"), name);
    // Tensors of the base folder's shards have their file range; pickled ones need not.
    if (origin.startsWith(`${dir}/base: `)) assert(plan?.stored, `${name} has no file range`);
    const s = plan?.stored;
    if (!s) continue;
    located++;
    const n = r.source.info(name)!.shape[0];
    const rows = { start: Math.floor(n / 3), count: Math.min(2, n - Math.floor(n / 3)) };
    const want = plan!.lora
      ? (await plan!.lora.base(rows)).bytes
      : (await r.source.readRaw(name, rows)).bytes;
    const got = await readAt(s.file, s.offset + rows.start * s.rowBytes, rows.count * s.rowBytes);
    assertEquals(firstDiff(got, want), -1, name);
  }
  assert(located > 0, "no tensor located");
  const wrapped = { ...r.source };
  assertEquals(tensorPlan(wrapped, r.source.names[0]), undefined);
});
