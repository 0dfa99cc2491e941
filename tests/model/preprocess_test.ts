// Frame preprocessing against Pillow (a fixture made once with Debian's python3-pil) and the
// reference's own tensors (vlm3r-tiny: uint8 frames -> PIL bicubic -> pixels -> CUT3R pixels),
// frame sampling against numpy's linspace, and decoding of the golden's video by both decoders.
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { needs, sharedFixture } from "../_support.ts";
import { decodePng } from "../../io/image.ts";
import { DataError } from "../../io/errors.ts";
import { readSafetensors } from "../../model/weights/safetensors.ts";
import {
  normalizePixels,
  preprocessFrames,
  readVideoFrames,
  resizeBicubicPil,
  resizeBilinear,
  type RgbFrame,
  sampleFrameIndices,
} from "../../model/preprocess.ts";

const pil = new URL("../fixtures/pil-bicubic/", import.meta.url).pathname;

function png(path: string): RgbFrame {
  const img = decodePng(Deno.readFileSync(path));
  assertEquals(img.channels, 3);
  return { width: img.width, height: img.height, data: img.data as Uint8Array };
}

function differing(a: Uint8Array, b: Uint8Array): number {
  assertEquals(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

function maxAbs(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

Deno.test("PIL bicubic: 640x480 -> 384 and 200x150 -> 384 are bit-exact against Pillow", () => {
  for (const name of ["frame_640x480", "small_200x150"]) {
    const out = resizeBicubicPil(png(`${pil}${name}.png`), 384, 384);
    const want = png(`${pil}${name}_to_384.png`);
    assertEquals([out.width, out.height], [384, 384]);
    assertEquals(differing(out.data, want.data), 0, `${name}: differing bytes`);
  }
});

Deno.test("PIL bicubic: one pass when one side keeps its size, a copy when both do", () => {
  const frame = png(`${pil}small_200x150.png`);
  // Width only and height only: each is a single pass of the two-pass resize.
  const wide = resizeBicubicPil(frame, 384, 150), tall = resizeBicubicPil(frame, 200, 384);
  const both = resizeBicubicPil(wide, 384, 384);
  const want = png(`${pil}small_200x150_to_384.png`);
  assertEquals(differing(both.data, want.data), 0, "horizontal then vertical");
  assert(differing(resizeBicubicPil(tall, 384, 384).data, want.data) > 0, "order matters");
  const same = resizeBicubicPil(frame, 200, 150);
  assertEquals(differing(same.data, frame.data), 0);
  assert(same.data !== frame.data, "a copy, not the input");
});

Deno.test("numpy linspace frame indices; short videos give each frame once", () => {
  assertEquals(sampleFrameIndices(300, 32).slice(0, 6), [0, 9, 19, 28, 38, 48]);
  assertEquals(sampleFrameIndices(300, 32).at(-1), 299);
  // np.linspace(0, 99, 7, dtype=int): 16.5 -> 16, 33, 49.5 -> 49, 66, 82.5 -> 82.
  assertEquals(sampleFrameIndices(100, 7), [0, 16, 33, 49, 66, 82, 99]);
  assertEquals(sampleFrameIndices(5, 32), [0, 1, 2, 3, 4]);
  assertEquals(sampleFrameIndices(1, 32), [0]);
  // The decord behaviour on request: np.linspace(0, 2, 7, dtype=int).
  assertEquals(sampleFrameIndices(3, 7, "duplicate"), [0, 0, 0, 1, 1, 1, 2]);
  assertEquals(sampleFrameIndices(9, 1), [0]);
  for (const bad of [0, -1, 2.5]) {
    let err: unknown;
    try {
      sampleFrameIndices(bad, 32);
    } catch (e) {
      err = e;
    }
    assert(err instanceof RangeError && /at least one frame/.test(err.message), `${bad}`);
  }
});

Deno.test("bad frames: a clear error, or the documented squash for odd shapes", () => {
  // Non-square and tiny frames are squashed like any other (the reference does the same).
  const tiny = { width: 1, height: 2, data: new Uint8Array([0, 0, 0, 255, 255, 255]) };
  const px = preprocessFrames([tiny], { siglip: 14, cut3r: 16 });
  assertEquals(px.siglip.length, 3 * 14 * 14);
  assert(px.cut3r.every(Number.isFinite));
  const short = { width: 2, height: 2, data: new Uint8Array(5) };
  let err: unknown;
  try {
    preprocessFrames([short]);
  } catch (e) {
    err = e;
  }
  assert(err instanceof DataError, String(err));
  assertEquals(err.message, "frame: data: expected 12 bytes (RGB), got 5");
  try {
    preprocessFrames([]);
  } catch (e) {
    err = e;
  }
  assertEquals((err as Error).message, "video: frames: expected at least one frame, got none");
});

const tiny = sharedFixture("vlm3r-tiny");

Deno.test({
  name: "vlm3r-tiny: resized_u8 bit-exact, pixel_values and pixel_values_cut3r within 1e-6",
  ignore: !tiny,
  fn: async () => {
    const g = await readSafetensors(`${tiny}/golden/inputs.safetensors`);
    const u8 = g.get("frames_u8")!;
    const [frames, h, w] = u8.shape;
    const input: RgbFrame[] = Array.from({ length: frames }, (_, f) => ({
      width: w,
      height: h,
      data: Uint8Array.from(u8.data.subarray(f * h * w * 3, (f + 1) * h * w * 3)),
    }));
    const px = preprocessFrames(input, { siglip: 100, cut3r: 112 });
    const resized = new Uint8Array(px.resized.flatMap((r) => [...r.data]));
    assertEquals(differing(resized, Uint8Array.from(g.get("resized_u8")!.data)), 0);
    const pv = g.get("pixel_values")!.data;
    const diff = maxAbs(px.siglip, pv);
    assert(diff <= 1e-6, `pixel_values: max abs diff ${diff}`);
    assertEquals(diff, 0, "pixel_values are reproduced bit for bit");
    const cut = maxAbs(px.cut3r, g.get("pixel_values_cut3r")!.data);
    assert(cut <= 1e-6, `pixel_values_cut3r: max abs diff ${cut}`);
    // From the golden's own pixel_values too (the CUT3R input is computed from them).
    const again = resizeBilinear(pv, { channels: 3, height: 100, width: 100 }, 112, 112);
    assert(maxAbs(again, g.get("pixel_values_cut3r")!.data) <= 1e-6);
    // The frames decoded from the golden's PNGs are the frames_u8.
    const f0 = png(`${tiny}/frames/frame_0.png`);
    assertEquals(differing(f0.data, input[0].data), 0);
    assertEquals(normalizePixels([px.resized[0]]).length, 3 * 100 * 100);
  },
});

Deno.test({
  name: "vlm3r-tiny video.mp4: each decoder gives its 4 frames, close to the PNGs",
  ignore: !tiny,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const pngs = [0, 1, 2, 3].map((i) => png(`${tiny}/frames/frame_${i}.png`));
    const got: Record<string, RgbFrame[]> = {};
    // Without a system ffmpeg (its absence printed by needs) only the wasm build is checked.
    const system = !needs("ffmpeg", "ffprobe").ignore;
    for (const decoder of system ? ["ffmpeg", "wasm"] as const : ["wasm"] as const) {
      const v = await readVideoFrames(`${tiny}/video.mp4`, { frames: 32, decoder });
      assertEquals(v.decoder, decoder);
      assertEquals(v.total, 4);
      assertEquals(v.indices, [0, 1, 2, 3]);
      // yuv420p loses chroma detail: the README measured a mean abs difference of 9.5.
      v.frames.forEach((f, i) => {
        assertEquals([f.width, f.height], [160, 120]);
        let sum = 0;
        for (let k = 0; k < f.data.length; k++) sum += Math.abs(f.data[k] - pngs[i].data[k]);
        const mean = sum / f.data.length;
        assert(mean > 1 && mean < 15, `${decoder} frame ${i}: mean abs ${mean}`);
      });
      got[decoder] = v.frames;
      const dup = await readVideoFrames(`${tiny}/video.mp4`, {
        frames: 6,
        decoder,
        shortVideo: "duplicate",
      });
      assertEquals(dup.indices, [0, 0, 1, 1, 2, 3]);
      assertEquals(differing(dup.frames[1].data, v.frames[0].data), 0);
      const two = await readVideoFrames(`${tiny}/video.mp4`, { frames: 2, decoder });
      assertEquals(two.indices, [0, 3]);
      assertEquals(differing(two.frames[1].data, v.frames[3].data), 0);
    }
    // The two differ in rounding only: the system swscale converts with SIMD code, the wasm
    // build with its C code.
    got.ffmpeg?.forEach((f, i) => {
      let sum = 0, max = 0;
      for (let k = 0; k < f.data.length; k++) {
        const d = Math.abs(f.data[k] - got.wasm[i].data[k]);
        sum += d;
        max = Math.max(max, d);
      }
      assert(sum / f.data.length < 1 && max <= 4, `frame ${i}: ffmpeg vs wasm ${sum} ${max}`);
    });
  },
});

Deno.test({
  name: "unreadable or missing videos are one clear error naming the file (wasm decoder)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/junk.mp4`, "not a video");
      const e = await assertRejects(
        () => readVideoFrames(`${dir}/junk.mp4`, { decoder: "wasm" }),
        /junk\.mp4: video: expected a readable video file/,
      );
      assert(e instanceof DataError, String(e));
      await assertRejects(
        () => readVideoFrames(`${dir}/none.mp4`),
        /none\.mp4: file: expected an existing file$/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "asking for the system decoder without ffmpeg on the PATH says so in one line",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const path = Deno.env.get("PATH") ?? "";
    try {
      await Deno.writeTextFile(`${dir}/room.mp4`, "not read");
      Deno.env.set("PATH", dir);
      await assertRejects(
        () => readVideoFrames(`${dir}/room.mp4`, { decoder: "ffmpeg" }),
        /room\.mp4: ffprobe is not on the PATH: install ffmpeg .*\(decoder "wasm"/,
      );
    } finally {
      Deno.env.set("PATH", path);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "unreadable or silent videos are one clear error naming the file (both decoders)",
  ...needs("ffmpeg", "ffprobe"),
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/junk.mp4`, "not a video");
      const e = await assertRejects(
        () => readVideoFrames(`${dir}/junk.mp4`, { decoder: "ffmpeg" }),
        /junk\.mp4: video: expected a readable video file, got ffprobe/,
      );
      assert(e instanceof DataError, String(e));
      // A file with sound and no picture: zero video frames.
      const made = await new Deno.Command("ffmpeg", {
        args: ["-v", "error", "-f", "lavfi", "-i", "sine=d=0.2", "-c:a", "aac", `${dir}/mute.mp4`],
        stdout: "null",
        stderr: "null",
      }).output();
      assert(made.success, "ffmpeg could not make the audio-only file");
      await assertRejects(
        () => readVideoFrames(`${dir}/mute.mp4`, { decoder: "ffmpeg" }),
        /mute\.mp4: video stream: expected one, got none$/,
      );
      await assertRejects(
        () => readVideoFrames(`${dir}/mute.mp4`, { decoder: "wasm" }),
        /mute\.mp4: video: expected a readable video file, got ffmpeg \(wasm\)/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "without ffmpeg on the PATH, auto encodes and decodes through the wasm build",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    // A child process, since which programs exist is checked once per process.
    const dir = await Deno.makeTempDir();
    try {
      const root = new URL("../../", import.meta.url).href;
      const script = `
        import { encodeJpeg } from "${root}io/image.ts";
        import { encodeMp4 } from "${root}io/video.ts";
        import { readVideoFrames } from "${root}model/preprocess.ts";
        const dir = ${JSON.stringify(dir)};
        for (let i = 0; i < 3; i++) {
          const rgba = new Uint8Array(32 * 16 * 4).fill(40 + 80 * i);
          await Deno.writeFile(dir + "/" + i + ".jpg", encodeJpeg(rgba, 32, 16));
        }
        const encoder = await encodeMp4(dir, 3, dir + "/room.mp4", { fps: 2 });
        const v = await readVideoFrames(dir + "/room.mp4", { frames: 2 });
        console.log(JSON.stringify({ encoder, decoder: v.decoder, indices: v.indices,
          grey: v.frames.map((f) => f.data[0]) }));`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", "--no-check", script],
        env: { PATH: dir, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(out.stderr);
      assert(out.success, err);
      const got = JSON.parse(new TextDecoder().decode(out.stdout));
      assertEquals([got.encoder, got.decoder, got.indices], ["wasm", "wasm", [0, 2]]);
      // The first and last frames' grey levels survive H.264 within a few levels.
      assert(Math.abs(got.grey[0] - 40) <= 4 && Math.abs(got.grey[1] - 200) <= 4, err + got.grey);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
