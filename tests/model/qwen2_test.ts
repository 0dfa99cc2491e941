// The Qwen2 decoder on WebGPU against the goldens computed by the reference code (qwen2-small:
// HF Qwen2ForCausalLM; vlm3r-tiny: VLM-3R's generate), against its own float64 CPU reference
// (forced decoding, "CPU match"), and the decode loop's readbacks counted.
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { sharedFixture, testGpu } from "../_support.ts";
import { quantizeTensors } from "../_quantize.ts";
import { nmse } from "../../kernels/nmse.ts";
import { Qwen2, type Qwen2Options } from "../../model/qwen2.ts";
import { type Qwen2Config, qwen2Config } from "../../model/qwen2_config.ts";
import { Qwen2Ref } from "../../model/qwen2_ref.ts";
import { qwen2Onnx } from "../../model/qwen2_onnx.ts";
import { OrtModel } from "../../model/ort_baseline.ts";
import { decodeAnswer, generate, generationConfig } from "../../model/generate.ts";
import { Tokenizer } from "../../model/tokenizer.ts";
import { chatPrompt, promptIds, userText } from "../../model/prompt.ts";
import { type HostTensor, readSafetensors } from "../../model/weights/safetensors.ts";
import { mapSource, type TensorSource } from "../../model/weights/source.ts";

const maybeGpu = await testGpu();
const gpu = maybeGpu!;
const opts = { sanitizeResources: false, sanitizeOps: false, ignore: !maybeGpu };
const LOGITS = 1e-6;
const small = sharedFixture("qwen2-small");
const tiny = sharedFixture("vlm3r-tiny");
const show = (s: string) => Deno.env.get("VLM3R_SHOW_NMSE") && console.log(s);

function close(name: string, got: ArrayLike<number>, want: ArrayLike<number>, bound = LOGITS) {
  const e = nmse(got, want);
  show(`${name}: NMSE ${e.toExponential(2)}`);
  assert(e <= bound, `${name}: NMSE ${e.toExponential(2)} > ${bound}`);
}

interface Golden {
  config: Qwen2Config;
  tensors: Map<string, HostTensor>;
  embeds: Float32Array;
  out: Map<string, HostTensor>;
  vocab: number;
}

async function loadSmall(): Promise<Golden> {
  const config = qwen2Config(JSON.parse(await Deno.readTextFile(`${small}/config.json`)));
  const inputs = await readSafetensors(`${small}/inputs.safetensors`);
  return {
    config,
    tensors: await readSafetensors(`${small}/weights-bf16.safetensors`),
    embeds: inputs.get("inputs_embeds")!.data,
    out: await readSafetensors(`${small}/outputs.safetensors`),
    vocab: config.vocab,
  };
}

async function loadTiny(): Promise<Golden> {
  // The LoRA release's config builds the model (§11.3); merged linears from the golden.
  const config = qwen2Config(JSON.parse(await Deno.readTextFile(`${tiny}/lora/config.json`)));
  const tensors = new Map<string, HostTensor>();
  for (const shard of ["model-00001-of-00002", "model-00002-of-00002"]) {
    for (const [k, v] of await readSafetensors(`${tiny}/base/${shard}.safetensors`)) {
      if (k.startsWith("model.layers.") || !k.includes("vision")) tensors.set(k, v);
    }
  }
  for (const [k, v] of await readSafetensors(`${tiny}/golden/merged_llm_linears.safetensors`)) {
    tensors.set(k, v);
  }
  const out = await readSafetensors(`${tiny}/golden/outputs.safetensors`);
  const meta = JSON.parse(await Deno.readTextFile(`${tiny}/golden/meta.json`));
  return {
    config,
    tensors,
    embeds: out.get("inputs_embeds")!.data,
    out,
    vocab: meta.len_tokenizer,
  };
}

const goldens = new Map<string, Promise<Golden>>();
const golden = (name: "small" | "tiny") => {
  if (!goldens.has(name)) goldens.set(name, name === "small" ? loadSmall() : loadTiny());
  return goldens.get(name)!;
};

const LINEAR = /(_proj\.weight|^lm_head\.weight)$/;
function source(g: Golden, format?: "int8" | "int4"): TensorSource {
  return mapSource(format ? quantizeTensors(g.tensors, format, (n) => LINEAR.test(n)) : g.tensors);
}

Deno.test(
  "qwen2-small: prefill logits at positions 0.., 6800.. and gapped match the golden",
  { ...opts, ignore: !maybeGpu || !small },
  async () => {
    const g = await golden("small");
    // Chunks of 16 tokens: the 37-token prompt takes three, the cache carries across them.
    const model = await Qwen2.load(gpu, source(g), g.config, { chunk: 16 });
    const scenarios: [string, Uint32Array | undefined][] = [
      ["pos0", undefined],
      ["pos6800", Uint32Array.from({ length: 37 }, (_, i) => 6800 + i)],
      ["gap", Uint32Array.from(g.out.get("position_ids_gap")!.data)],
    ];
    for (const [name, positions] of scenarios) {
      const cache = model.cache(37);
      const r = await model.prefill(cache, { embeds: g.embeds }, {
        positions,
        logits: "all",
        hidden: true,
      });
      close(`logits_${name}`, r.logits!, g.out.get(`logits_${name}`)!.data);
      close(`last_hidden_${name}`, r.hidden!, g.out.get(`last_hidden_${name}`)!.data);
      cache.destroy();
    }
    model.destroy();
  },
);

// f16 storage (weights and KV cache) and the int8/int4 linears against the f32 golden. Measured
// on qwen2-small: f16 2.5e-8, int8 2.2e-4, int4 5.2e-2 (random weights: int4's 4-bit codes per
// 128 inputs are coarse); the bounds leave room for other adapters' rounding.
const STORAGE_BOUNDS = { f16: 1e-6, int8: 1e-3, int4: 0.1 } as const;

Deno.test(
  "qwen2-small: prefill logits with f16 storage and int8/int4 linears, within documented bounds",
  { ...opts, ignore: !maybeGpu || !small },
  async () => {
    const g = await golden("small");
    for (const [variant, bound] of Object.entries(STORAGE_BOUNDS)) {
      if (variant === "f16" && !gpu.f16) continue;
      const q = variant === "f16" ? undefined : variant as "int8" | "int4";
      const model = await Qwen2.load(gpu, source(g, q), g.config, {
        dtype: variant === "f16" ? "f16" : "f32",
      });
      const cache = model.cache(37);
      const r = await model.prefill(cache, { embeds: g.embeds }, { logits: "all" });
      close(`logits_pos0 ${variant}`, r.logits!, g.out.get("logits_pos0")!.data, bound);
      cache.destroy();
      model.destroy();
    }
  },
);

Deno.test(
  "qwen2-small: 8 greedy steps through the KV cache, with and without the penalty",
  { ...opts, ignore: !maybeGpu || !small },
  async () => {
    const g = await golden("small");
    const model = await Qwen2.load(gpu, source(g), g.config);
    for (const [suffix, penalty] of [["", 1], ["_rp", 1.05]] as const) {
      const cache = model.cache(37 + 8);
      const want = Array.from(g.out.get(`decode_tokens${suffix}`)!.data);
      const logits = g.out.get(`decode_logits${suffix}`)!.data;
      let r = await model.prefill(cache, { embeds: g.embeds }, { penalty, logits: "last" });
      const ids = [r.id];
      close(`decode${suffix} step 0`, r.logits!, logits.subarray(0, 512));
      for (let s = 1; s < 8; s++) {
        r = await model.decode(cache, { penalty, logits: "last" });
        ids.push(r.id);
        close(`decode${suffix} step ${s}`, r.logits!, logits.subarray(s * 512, (s + 1) * 512));
      }
      assertEquals(ids, want);
      cache.destroy();
    }
    model.destroy();
  },
);

Deno.test(
  "qwen2-small: a prompt of token ids runs as the prompt of their embedding rows",
  { ...opts, ignore: !maybeGpu || !small },
  async () => {
    const g = await golden("small");
    const model = await Qwen2.load(gpu, source(g), g.config, { chunk: 5 });
    const ids = Uint32Array.from(g.out.get("decode_tokens")!.data);
    const table = g.tensors.get("model.embed_tokens.weight")!.data, d = g.config.hidden;
    const rows = new Float32Array(ids.length * d);
    ids.forEach((id, i) => rows.set(table.subarray(id * d, (id + 1) * d), i * d));
    assertEquals(Array.from(await model.embed(ids)), Array.from(rows));
    const [a, b] = [model.cache(8), model.cache(8)];
    const byIds = await model.prefill(a, { ids }, { logits: "last" });
    const byRows = await model.prefill(b, { embeds: rows }, { logits: "last" });
    assertEquals(byIds.id, byRows.id);
    assertEquals(Array.from(byIds.logits!), Array.from(byRows.logits!));
    await assertRejects(
      () => model.prefill(a, { ids: Uint32Array.of(512) }),
      /token 0: expected an id below 512/,
    );
    for (const c of [a, b]) c.destroy();
    model.destroy();
  },
);

Deno.test(
  "vlm3r-tiny: last-position logits, 16 greedy tokens, one 4-byte readback per step",
  { ...opts, ignore: !maybeGpu || !tiny },
  async () => {
    const g = await golden("tiny");
    const gen = generationConfig(
      JSON.parse(await Deno.readTextFile(`${tiny}/base/generation_config.json`)),
    );
    assertEquals(gen.repetitionPenalty, 1.05);
    // Small parts and chunks: lm_head and embedding in 8 MB row parts, 171 tokens in 3 chunks.
    const model = await Qwen2.load(gpu, source(g), g.config, {
      vocab: g.vocab,
      chunk: 64,
      maxPartBytes: 8 << 20,
    });
    const t = g.embeds.length / g.config.hidden;
    assertEquals(t, 171);
    const cache = model.cache(t + 16);
    const r = await model.prefill(cache, { embeds: g.embeds }, { logits: "last" });
    close("prefill_logits", r.logits!, g.out.get("prefill_logits")!.data.subarray(0, g.vocab));
    cache.destroy();
    for (
      const [key, penalty] of [["generated_ids", 1.05], ["generated_ids_no_penalty", 1]] as const
    ) {
      const maps: number[] = [];
      const mapAsync = GPUBuffer.prototype.mapAsync;
      GPUBuffer.prototype.mapAsync = function (this: GPUBuffer, ...a) {
        maps.push(this.size);
        return mapAsync.apply(this, a);
      };
      const c = model.cache(t + 16);
      let out;
      try {
        out = await generate(model, c, g.embeds, {
          maxNewTokens: 16,
          eos: gen.eos,
          repetitionPenalty: penalty,
        });
      } finally {
        GPUBuffer.prototype.mapAsync = mapAsync;
      }
      assertEquals(out.ids, Array.from(g.out.get(key)!.data), key);
      // One map per generated token (prefill's last batch and each decode step), 4 bytes each.
      assertEquals(maps, new Array(16).fill(4), `${key}: readbacks`);
      c.destroy();
    }
    model.destroy();
  },
);

Deno.test(
  "vlm3r-tiny: the tokenizer and the prompt reproduce the reference's 92 ids and the answer text",
  { ...opts, ignore: !maybeGpu || !tiny },
  async () => {
    const meta = JSON.parse(await Deno.readTextFile(`${tiny}/golden/meta.json`));
    const tok = await Tokenizer.load(`${tiny}/base`);
    assertEquals(tok.length, meta.len_tokenizer);
    const prompt = chatPrompt(userText({ question: meta.question, options: meta.options }));
    assertEquals(prompt, meta.prompt);
    assertEquals(prompt, await Deno.readTextFile(`${tiny}/prompt.txt`));
    const { ids, imageAt } = promptIds(prompt, tok);
    assertEquals(ids, meta.input_ids);
    assertEquals(imageAt, 14);
    assertEquals(decodeAnswer(tok, meta.generated_ids), meta.answer_text);
    assertEquals(decodeAnswer(tok, [151645, 198, 32, 151645]), "A");
    assertEquals(tok.id("<|im_end|>"), 151645);
  },
);

// Forced decoding: the GPU is fed the CPU reference's tokens; the share of steps whose GPU
// top-1 equals the reference's choice.
async function cpuMatch(
  g: Golden,
  ref: { ids: number[] },
  options: Qwen2Options,
  format?: "int8" | "int4",
  penalty = 1.05,
): Promise<number> {
  const model = await Qwen2.load(gpu, source(g, format), g.config, { vocab: g.vocab, ...options });
  const t = g.embeds.length / g.config.hidden, n = ref.ids.length;
  const cache = model.cache(t + n);
  let { id } = await model.prefill(cache, { embeds: g.embeds }, { penalty });
  let same = +(id === ref.ids[0]);
  for (let s = 1; s < n; s++) {
    ({ id } = await model.decode(cache, { penalty, forced: ref.ids[s - 1] }));
    same += +(id === ref.ids[s]);
  }
  cache.destroy();
  model.destroy();
  return same / n;
}

for (const name of ["small", "tiny"] as const) {
  Deno.test(
    `CPU match on ${name === "small" ? "qwen2-small" : "vlm3r-tiny"}: 100% in f32 and f16`,
    { ...opts, ignore: !maybeGpu || !(name === "small" ? small : tiny) },
    async () => {
      const g = await golden(name);
      const ref = (await Qwen2Ref.load(source(g), g.config, g.vocab)).generate(g.embeds, {
        maxNewTokens: name === "small" ? 8 : 16,
        penalty: 1.05,
      });
      // The float64 reference agrees with the golden's tokens too.
      const want = name === "small" ? "decode_tokens_rp" : "generated_ids";
      assertEquals(ref.ids, Array.from(g.out.get(want)!.data));
      assertEquals(await cpuMatch(g, ref, { dtype: "f32" }), 1);
      if (gpu.f16) assertEquals(await cpuMatch(g, ref, { dtype: "f16" }), 1);
      for (const format of ["int8", "int4"] as const) {
        // Recorded, not bounded: random weights make near-ties that quantisation flips.
        console.log(
          `CPU match ${name} ${format}: ${(100 * await cpuMatch(g, ref, {}, format)).toFixed(0)}%`,
        );
      }
    },
  );
}

Deno.test(
  "qwen2-small layer 0 on onnxruntime-web, the CPU reference and WebGPU agree",
  { ...opts, ignore: !maybeGpu || !small },
  async () => {
    const g = await golden("small");
    const one = { ...g.config, layers: 1 };
    const cpu = await Qwen2Ref.load(source(g), one);
    const ref = cpu.forward(cpu.cache(), g.embeds);
    const ort = await OrtModel.create(await qwen2Onnx(source(g), one, { tokens: 37 }));
    const { y } = await ort.run({ x: [g.embeds, [37, one.hidden]] });
    await ort.release();
    close("onnx layer 0 vs reference", y, ref);
    const model = await Qwen2.load(gpu, source(g), one);
    const cache = model.cache(37);
    const r = await model.prefill(cache, { embeds: g.embeds }, { hidden: true });
    close("webgpu layer 0 vs reference", r.hidden!, ref);
    cache.destroy();
    model.destroy();
  },
);
