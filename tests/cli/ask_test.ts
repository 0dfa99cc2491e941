// `vlm3r ask` from the command line: the golden question on vlm3r-tiny through the CLI (with
// --json and the disk cache), a questions file whose predictions `vlm3r eval` reads, and bad
// input: one line and exit 1 (usage errors: 2).
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { capture, needs, sharedFixture, testGpu } from "../_support.ts";
import { main } from "../../cli/main.ts";

const dir = sharedFixture("vlm3r-tiny");
const release = dir
  ? [
    "--base",
    `${dir}/base`,
    "--lora",
    `${dir}/lora`,
    "--cut3r",
    `${dir}/cut3r/cut3r_tiny.pth`,
    "--siglip",
    `${dir}/siglip/config.json`,
  ]
  : [];
const opts = { sanitizeResources: false, sanitizeOps: false };

async function ask(args: string[]) {
  const io = capture();
  const code = await main(["ask", ...args], io);
  return { code, out: io.out, err: io.err };
}

Deno.test({
  ...opts,
  name: "vlm3r ask: the golden answer through the CLI, --json, and a questions file for eval",
  ignore: !dir || !(await testGpu()),
  fn: async () => {
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
    const tmp = await Deno.makeTempDir();
    try {
      const cache = ["--cache", join(tmp, "cache"), "--dtype", "f32"];
      const options = meta.options.flatMap((o: string) => ["--options", o]);
      const r = await ask([
        `${dir}/frames`,
        meta.question,
        ...options,
        ...release,
        ...cache,
        "--json",
      ]);
      assertEquals(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assertEquals(j.ids, meta.generated_ids);
      assertEquals(j.answer, meta.answer_text);
      assertEquals(j.prompt_tokens, 171);
      assertEquals(j.cached, { visual: false, prefix: false });
      for (const k of ["decode", "preprocess", "siglip", "cut3r", "fusion_projector", "prefill"]) {
        assert(j.seconds[k] >= 0, k);
      }
      assert(typeof j.adapter === "string" && j.adapter.length > 0);

      // A questions file over the fixture's frames (as a video folder), two questions on it:
      // the predictions are what `ask` answers, in question order, and eval reads them.
      const videos = join(tmp, "videos");
      await Deno.mkdir(join(videos, "tiny"), { recursive: true });
      for await (const e of Deno.readDir(`${dir}/frames`)) {
        await Deno.copyFile(`${dir}/frames/${e.name}`, join(videos, "tiny", e.name));
      }
      const questions = join(tmp, "q.jsonl"), out = join(tmp, "p.jsonl");
      const records = [
        {
          id: 1,
          dataset: "synth",
          scene_name: "tiny",
          video_path: "tiny",
          question_type: "object_rel_direction_hard",
          question: meta.question,
          options: meta.options,
          ground_truth: "A",
        },
        {
          id: 2,
          dataset: "synth",
          scene_name: "tiny",
          video_path: "tiny",
          question_type: "object_counting",
          question: "How many chairs are in this room?",
          options: null,
          ground_truth: 2,
        },
      ];
      await Deno.writeTextFile(questions, records.map((x) => JSON.stringify(x)).join("\n") + "\n");
      const f = await ask([
        "--questions",
        questions,
        "--videos",
        videos,
        "--out",
        out,
        "--max-new-tokens",
        "3",
        ...release,
        ...cache,
      ]);
      assertEquals(f.code, 0, f.err);
      const preds = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      assertEquals(preds.map((p) => p.id), [1, 2]);
      const single = await ask([
        `${dir}/frames`,
        "How many chairs are in this room?",
        "--max-new-tokens",
        "3",
        ...release,
        ...cache,
        "--json",
      ]);
      assertEquals(JSON.parse(single.out).answer, preds[1].prediction);
      assertEquals(JSON.parse(single.out).cached, { visual: true, prefix: true });
      const ev = capture();
      assertEquals(
        await main(["eval", "--questions", questions, "--predictions", out], ev),
        0,
        ev.err,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name: "vlm3r ask: bad input is one line and exit 1; usage errors exit 2",
  ignore: !dir,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const oneLine = (r: { code: number; err: string }, code: number, pattern: RegExp) => {
        assertEquals(r.code, code, r.err);
        assert(pattern.test(r.err), r.err);
        if (code === 1) assertEquals(r.err.trim().split("\n").length, 1, r.err);
      };
      oneLine(
        await ask([join(tmp, "none.mp4"), "q", ...release]),
        1,
        /none\.mp4: video: .*nothing there/,
      );
      await Deno.mkdir(join(tmp, "empty"));
      oneLine(
        await ask([join(tmp, "empty"), "q", ...release]),
        1,
        /empty: frames: expected PNG or JPEG/,
      );
      await Deno.writeTextFile(join(tmp, "bad.mp4"), "not a video");
      await Deno.writeFile(join(tmp, "frame_0.png"), new TextEncoder().encode("not a png"));
      await Deno.mkdir(join(tmp, "broken"));
      await Deno.copyFile(join(tmp, "frame_0.png"), join(tmp, "broken", "0.png"));
      oneLine(
        await ask([join(tmp, "broken"), "q", ...release]),
        1,
        /0\.png: image: expected a readable/,
      );
      oneLine(
        await ask([`${dir}/frames`, "q", "--model", tmp]),
        1,
        /manifest\.json: file: expected a converted model/,
      );
      const missing = [...release];
      missing[missing.indexOf("--cut3r") + 1] = join(tmp, "none.pth");
      oneLine(await ask([`${dir}/frames`, "q", ...missing]), 1, /none\.pth/);
      // A release of another architecture: named by the config field that says so.
      await Deno.mkdir(join(tmp, "lora"));
      for await (const e of Deno.readDir(`${dir}/lora`)) {
        await Deno.copyFile(`${dir}/lora/${e.name}`, join(tmp, "lora", e.name));
      }
      const cfgPath = join(tmp, "lora", "config.json");
      const cfg = JSON.parse(await Deno.readTextFile(cfgPath));
      await Deno.writeTextFile(cfgPath, JSON.stringify({ ...cfg, model_type: "llava_llama" }));
      const other = [...release];
      other[other.indexOf("--lora") + 1] = join(tmp, "lora");
      oneLine(
        await ask([`${dir}/frames`, "q", ...other]),
        1,
        /config\.json: model_type: expected llava_qwen/,
      );
      // Usage errors.
      oneLine(await ask([`${dir}/frames`, ...release]), 2, /give the video and the question/);
      oneLine(
        await ask([`${dir}/frames`, "q"]),
        2,
        /--model DIR .*or --base DIR --lora DIR --cut3r FILE/,
      );
      oneLine(await ask([`${dir}/frames`, "q", "--model", tmp, ...release]), 2, /not both/);
      oneLine(
        await ask([`${dir}/frames`, "q", "--out", "p.jsonl", ...release]),
        2,
        /--out goes with --questions/,
      );
      oneLine(
        await ask([`${dir}/frames`, "q", "--frames", "-3", ...release]),
        2,
        /--frames expects an integer/,
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name: "vlm3r ask: a file with no video stream is one line and exit 1",
  ...needs("ffmpeg", "ffprobe"),
  ignore: !dir || needs("ffmpeg", "ffprobe").ignore,
  fn: async () => {
    const tmp = await Deno.makeTempDir();
    try {
      const audio = join(tmp, "silence.mp4");
      const made = await new Deno.Command("ffmpeg", {
        args: ["-v", "error", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.5", audio],
      }).output();
      assert(made.success);
      const r = await ask([audio, "q", ...release]);
      assertEquals(r.code, 1, r.err);
      assert(/silence\.mp4: /.test(r.err) && r.err.trim().split("\n").length === 1, r.err);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
