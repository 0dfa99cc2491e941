import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { encodeJpeg } from "../../io/image.ts";
import { videoInfo } from "../../io/mp4.ts";
import { encodedSize, resizeArea, resizeNearest } from "../../io/resize.ts";
import { needs } from "../_support.ts";
import { Rng } from "../../geometry/rng.ts";

Deno.test("resizeArea equals a brute-force supersampled average", () => {
  const rng = new Rng("resize");
  const [w, h, W, H] = [13, 7, 5, 3];
  const src = Uint8Array.from({ length: w * h }, () => rng.int(0, 255));
  const got = resizeArea(src, w, h, 1, W, H);
  // Supersample each output pixel's footprint on a fine grid.
  for (let Y = 0; Y < H; Y++) {
    for (let X = 0; X < W; X++) {
      let sum = 0, n = 0;
      for (let j = 0; j < 60; j++) {
        for (let i = 0; i < 60; i++) {
          const x = ((X + (i + 0.5) / 60) * w) / W, y = ((Y + (j + 0.5) / 60) * h) / H;
          sum += src[Math.floor(y) * w + Math.floor(x)];
          n++;
        }
      }
      assert(
        Math.abs(got[Y * W + X] - sum / n) <= 2,
        `pixel ${X},${Y}: ${got[Y * W + X]} vs ${sum / n}`,
      );
    }
  }
  assertEquals(
    resizeNearest(Uint16Array.of(1, 2, 3, 4, 5, 6), 3, 2, 3, 2),
    Uint16Array.of(1, 2, 3, 4, 5, 6),
  );
});

Deno.test("encodedSize reads JPEG and PNG headers", () => {
  assertEquals(encodedSize(encodeJpeg(new Uint8Array(4 * 40 * 30), 40, 30)), {
    width: 40,
    height: 30,
  });
  assertEquals(encodedSize(Uint8Array.of(1, 2, 3)), undefined);
});

Deno.test({
  name: "videoInfo reads the frame rate of MP4 and MOV files made by ffmpeg",
  ...needs("ffmpeg", "ffprobe"),
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      for (
        const [file, rate, fps, n] of [["a.mp4", "30000/1001", 30000 / 1001, 12], [
          "b.mov",
          "25",
          25,
          10,
        ]] as const
      ) {
        const out = await new Deno.Command("ffmpeg", {
          args: [
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            `testsrc=size=32x24:rate=${rate}`,
            "-frames:v",
            String(n),
            join(dir, file),
          ],
        }).output();
        assert(out.success);
        const info = await videoInfo(join(dir, file));
        assertEquals(info.frames, n);
        assertAlmostEquals(info.fps, fps, 1e-3);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
