// VLM-3R end to end against the golden of vlm3r-tiny, computed by the reference code from the
// raw release files: the prompt ids, the last prompt position's logits and the 16 greedy tokens
// (with the repetition penalty), from the frame PNGs; the same question on the fixture's MP4;
// the per-video cache (a follow-up question gives a cold run's tokens without running the
// towers; a damaged or foreign cache file is rebuilt).
import { assert, assertEquals } from "../assert.ts";
import { sharedFixture, testGpu } from "../_support.ts";
import { nmse } from "../../kernels/nmse.ts";
import { VideoCache } from "../../model/cache.ts";
import { Vlm3r } from "../../model/vlm3r.ts";
import { readSafetensors } from "../../model/weights/safetensors.ts";

const dir = sharedFixture("vlm3r-tiny");
const gpu = await testGpu();
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !dir || !gpu };
const release = () => ({
  base: `${dir}/base`,
  lora: `${dir}/lora`,
  cut3r: `${dir}/cut3r/cut3r_tiny.pth`,
  siglip: `${dir}/siglip/config.json`,
});

Deno.test({
  ...opts,
  name:
    "vlm3r-tiny from the raw release: prompt ids, prefill logits and 16 tokens as the reference",
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
    const golden = await readSafetensors(`${dir}/golden/outputs.safetensors`);
    const cacheDir = await Deno.makeTempDir();
    const problems: string[] = [];
    const cache = new VideoCache({ dir: cacheDir, onProblem: (l) => problems.push(l) });
    const vlm = await Vlm3r.open(release(), { gpu: gpu!, precision: "f32", cache });
    try {
      const q = { question: meta.question, options: meta.options };
      const cold = await vlm.ask(`${dir}/frames`, q, { logits: true });
      assertEquals(cold.promptIds, meta.input_ids);
      assertEquals(cold.promptLength, meta.sequence_length);
      assertEquals(cold.visualTokens, meta.visual_tokens);
      // The reference's logits are 152,064 wide before its vocabulary cut; ours are the
      // tokenizer's 151,647.
      const want = golden.get("prefill_logits")!.data.subarray(0, cold.logits!.length);
      const err = nmse(cold.logits!, want);
      assert(err <= 1e-5, `prefill logits NMSE ${err}`);
      assertEquals(cold.ids, meta.generated_ids);
      assertEquals(cold.text, meta.answer_text);
      assertEquals(cold.cached, { visual: false, prefix: false });
      assertEquals(vlm.towerRuns, 1);

      // A follow-up on the same video: no tower runs, the same tokens as asked cold.
      const again = await vlm.ask(`${dir}/frames`, q, { logits: true });
      assertEquals(again.cached, { visual: true, prefix: true });
      assertEquals(vlm.towerRuns, 1);
      assertEquals(again.ids, cold.ids);
      assertEquals(Array.from(again.logits!), Array.from(cold.logits!));

      // Another question, cold (memory cleared, disk cache moved away) and warm.
      const other = { question: "How many chairs are in this room?" };
      const warm = await vlm.ask(`${dir}/frames`, other, { maxNewTokens: 4 });
      assertEquals(vlm.towerRuns, 1);
      cache.clearMemory();
      const aside = await Deno.makeTempDir();
      for await (const e of Deno.readDir(cacheDir)) {
        await Deno.rename(`${cacheDir}/${e.name}`, `${aside}/${e.name}`);
      }
      const coldOther = await vlm.ask(`${dir}/frames`, other, { maxNewTokens: 4 });
      assertEquals(vlm.towerRuns, 2);
      assertEquals(coldOther.ids, warm.ids);

      // A truncated prefix file and a foreign visual file on disk: reported, rebuilt, and the
      // answer is still the cold one.
      cache.clearMemory();
      const files = [];
      for await (const e of Deno.readDir(cacheDir)) files.push(`${cacheDir}/${e.name}`);
      const prefixFile = files.find((f) => f.includes(".prefix."))!;
      const visualFile = files.find((f) => f.includes(".visual."))!;
      const bytes = await Deno.readFile(prefixFile);
      await Deno.writeFile(prefixFile, bytes.subarray(0, bytes.length - 100));
      await Deno.writeFile(visualFile, new TextEncoder().encode("not a cache file at all"));
      const rebuilt = await vlm.ask(`${dir}/frames`, other, { maxNewTokens: 4 });
      assertEquals(rebuilt.cached, { visual: false, prefix: false });
      assertEquals(rebuilt.ids, warm.ids);
      assertEquals(vlm.towerRuns, 3);
      assertEquals(vlm.cacheStats.rejected, 2);
      assertEquals(problems.length, 2, problems.join("\n"));
      assert(problems.some((p) => p.includes("truncated")), problems.join("\n"));
      await Deno.remove(aside, { recursive: true });
    } finally {
      vlm.destroy();
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name: "vlm3r-tiny on the MP4: the same prompt, logits near the PNG frames' (decoding differs)",
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
    const golden = await readSafetensors(`${dir}/golden/outputs.safetensors`);
    const vlm = await Vlm3r.open(release(), { gpu: gpu!, precision: "f32" });
    try {
      const a = await vlm.ask(
        `${dir}/video.mp4`,
        { question: meta.question, options: meta.options },
        { logits: true, maxNewTokens: 2 },
      );
      assertEquals(a.promptIds, meta.input_ids);
      assertEquals(a.frames, [0, 1, 2, 3]);
      const want = golden.get("prefill_logits")!.data.subarray(0, a.logits!.length);
      const err = nmse(a.logits!, want);
      // The MP4's decoded frames differ from the PNGs (yuv420p: mean abs 9.5 of 255).
      if (Deno.env.get("VLM3R_SHOW_NMSE")) console.log(`video.mp4 prefill logits: NMSE ${err}`);
      assert(err > 0 && err < 0.5, `prefill logits NMSE ${err}`);
    } finally {
      vlm.destroy();
    }
  },
});
