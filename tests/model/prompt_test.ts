// The §1.6 prompt pieces: post-prompts, the time instruction verbatim, the <image> split and the
// splice of visual rows at the -200 sentinel.
import { assertEquals, assertRejects } from "../assert.ts";
import {
  chatPrompt,
  IMAGE_TOKEN_INDEX,
  promptIds,
  spliceEmbeddings,
  userText,
} from "../../model/prompt.ts";
import { generationConfig } from "../../model/generate.ts";

const chars = { encode: (s: string) => [...s].map((c) => c.charCodeAt(0)) };

Deno.test("user text: multiple choice, numeric, with the time instruction", () => {
  assertEquals(
    userText({ question: "Which?", options: ["A. x", "B. y"] }),
    "These are frames of a video.\nWhich?\nOptions:\nA. x\nB. y\n" +
      "Answer with the option's letter from the given choices directly.",
  );
  assertEquals(
    userText({ question: "How far?", options: null }, {
      videoSeconds: 12.345,
      frameTimes: [0, 6.1725, 12.345],
    }),
    "The video lasts for 12.35 seconds, and 3 frames are uniformly sampled from it. These " +
      "frames are located at 0.00s,6.17s,12.35s.Please answer the following questions related " +
      "to this video.\nThese are frames of a video.\nHow far?\n" +
      "Please answer the question using a single word or phrase.",
  );
});

Deno.test("the image split gives one -200 and the splice puts the visual rows there", async () => {
  const p = promptIds(chatPrompt("Q"), chars);
  assertEquals(p.ids.filter((i) => i === IMAGE_TOKEN_INDEX).length, 1);
  assertEquals(p.ids[p.imageAt], IMAGE_TOKEN_INDEX);
  assertEquals(String.fromCharCode(...p.ids.slice(p.imageAt + 1, p.imageAt + 3)), "\nQ");
  const text = Float32Array.from({ length: 4 * 2 }, (_, i) => i); // 4 text rows of width 2
  const visual = Float32Array.of(-1, -1, -2, -2, -3, -3);
  assertEquals(
    Array.from(spliceEmbeddings(text, visual, 1, 2)),
    [0, 1, -1, -1, -2, -2, -3, -3, 2, 3, 4, 5, 6, 7],
  );
  await assertRejects(
    () => promptIds("<image><image>", chars),
    /expected exactly one placeholder, got 2/,
  );
});

Deno.test("generation_config.json: eos ids as a number or a list; a bad penalty is named", async () => {
  assertEquals(generationConfig({ eos_token_id: 151645 }), { eos: [151645], repetitionPenalty: 1 });
  await assertRejects(
    () => generationConfig({ repetition_penalty: "x" }),
    /^generation_config.json: repetition_penalty: expected a positive number, got x/,
  );
});
