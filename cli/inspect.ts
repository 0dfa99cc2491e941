/**
 * `vlm3r inspect`: what a checkpoint holds (tensors, shapes, dtypes, sizes, parameters per
 * component) and, where its configuration is known, which tensors are missing, mis-shaped or
 * unused against the VLM-3R architecture. Reads a converted model folder, a release (its root
 * holding base/ lora/ cut3r/, or --base/--lora/--cut3r), a safetensors file or folder, or a
 * torch `.bin`/`.pth`.
 *
 * @module
 */

import { architecture, componentOf, CUT3R_PREFIX } from "../model/weights/architecture.ts";
import { cut3rConfig } from "../model/weights/config.ts";
import { openModel } from "../model/weights/convert.ts";
import { openRelease, type ReleasePaths } from "../model/weights/release.ts";
import { openSafetensors } from "../model/weights/safetensors.ts";
import { dtypeBytes, type TensorSource } from "../model/weights/source.ts";
import { checkpointArg, openTorch, tensorsOf, torchSource } from "../model/weights/torch.ts";
import { type Command, type Context, UsageError } from "./_command.ts";

/** The `inspect` command. */
export const inspect: Command = {
  name: "inspect",
  summary: "list a checkpoint's tensors and check it against the VLM-3R architecture",
  usage:
    "vlm3r inspect MODEL|RELEASE|FILE [--json] | vlm3r inspect --base DIR --lora DIR --cut3r FILE [--siglip C]",
  examples: [
    "vlm3r inspect models/vlm3r-f16",
    "vlm3r inspect cut3r_512_dpt_4_64.pth --json",
    "vlm3r inspect --base LLaVA-Video-7B-Qwen2 --lora vlm-3r-llava-qwen2-lora --cut3r cut3r_512_dpt_4_64.pth",
  ],
  positionals: "PATH",
  options: {
    json: { type: "boolean", description: "print the report as JSON" },
    base: { type: "string", value: "DIR", description: "release: LLaVA-Video base folder" },
    lora: { type: "string", value: "DIR", description: "release: VLM-3R LoRA folder" },
    cut3r: { type: "string", value: "FILE", description: "release: CUT3R checkpoint" },
    siglip: { type: "string", value: "CONFIG", description: "release: SigLIP vision config" },
  },
  run,
};

/** What `inspect` found. */
export interface InspectReport {
  path: string;
  kind: "model" | "release" | "safetensors" | "torch";
  tensors: { name: string; shape: number[]; dtype: string; bytes: number }[];
  /** Parameters (elements) per component. */
  parameters: Record<string, number>;
  /** Expected by the architecture, absent. */
  missing: string[];
  /** Present with another shape: `name: expected [..], got [..]`. */
  mismatched: string[];
  /** Present but not used by VLM-3R. */
  unused: string[];
  notes: string[];
}

async function isDir(p: string) {
  return await Deno.stat(p).then((s) => s.isDirectory, () => false);
}
async function exists(p: string) {
  return await Deno.stat(p).then(() => true, () => false);
}

function listing(src: TensorSource, component: (name: string) => string) {
  const tensors = src.names.map((name) => {
    const i = src.info(name)!;
    const n = i.shape.reduce((a, b) => a * b, 1);
    return { name, shape: [...i.shape], dtype: i.dtype, bytes: n * dtypeBytes(i.dtype) };
  });
  const parameters: Record<string, number> = {};
  for (const t of tensors) {
    const c = component(t.name);
    parameters[c] = (parameters[c] ?? 0) + t.shape.reduce((a, b) => a * b, 1);
  }
  return { tensors, parameters };
}

/** Builds the report for a path (or release paths). */
export async function inspectPath(
  path: string | undefined,
  release?: ReleasePaths,
): Promise<InspectReport> {
  const empty = {
    missing: [] as string[],
    mismatched: [] as string[],
    unused: [] as string[],
    notes: [] as string[],
  };
  if (!release && path && await isDir(path)) {
    const root = path.replace(/\/+$/, "");
    if (await exists(`${root}/manifest.json`)) return await inspectModel(root);
    if (
      await isDir(`${root}/base`) && await isDir(`${root}/lora`) && await isDir(`${root}/cut3r`)
    ) {
      const pth = [...Deno.readDirSync(`${root}/cut3r`)].filter((f) =>
        /\.(pth|pt|bin)$/.test(f.name)
      );
      if (pth.length !== 1) {
        throw new UsageError(`${root}/cut3r: expected one .pth file, found ${pth.length}`);
      }
      release = {
        base: `${root}/base`,
        lora: `${root}/lora`,
        cut3r: `${root}/cut3r/${pth[0].name}`,
        siglip: await exists(`${root}/siglip/config.json`) ? `${root}/siglip` : undefined,
      };
    }
  }
  if (release) {
    const r = await openRelease(release, { lenient: true });
    const { tensors, parameters } = listing(r.source, componentOf);
    return {
      path: path ?? release.base,
      kind: "release",
      tensors,
      parameters,
      missing: r.problems.filter((p) => p.got === "missing").map((p) => `${p.file}: ${p.field}`),
      mismatched: r.problems.filter((p) => p.got !== "missing").map((p) => p.message),
      unused: r.dropped.map((d) => `${d.file}: ${d.key} [${d.shape.join(", ")}]`),
      notes: [
        `LoRA r ${r.lora.r}, alpha ${r.lora.alpha}: ${r.lora.modules.length} linears merged`,
        `vocabulary ${r.config.llm.vocab} rows (len(tokenizer)) of ${r.config.llm.checkpointVocab}`,
        `SigLIP geometry from ${r.config.vision.source}`,
        `CUT3R: ${r.config.cut3r.constructor}`,
      ],
    };
  }
  if (!path) throw new UsageError("give a PATH, or --base, --lora and --cut3r");
  if (/\.(bin|pth|pt)$/.test(path)) {
    const f = await openTorch(path);
    const ctor = checkpointArg(f.root, "model");
    const nested = f.root instanceof Map && f.root.has("model") && typeof ctor === "string";
    const sd = nested
      ? tensorsOf((f.root as Map<unknown, never>).get("model")!)
      : tensorsOf(f.root);
    const src = torchSource(f, sd, path);
    const strip = (n: string) => n.replace(/^base_model\.model\./, "").replace(/^module\./, "");
    const comp = (n: string) =>
      typeof ctor === "string" ? "cut3r" : /lora_[AB]/.test(n) ? "lora" : componentOf(strip(n));
    const report: InspectReport = {
      path,
      kind: "torch",
      ...listing(src, comp),
      ...empty,
      notes: [],
    };
    if (f.root instanceof Map) {
      const others = [...f.root.keys()].filter((k) =>
        typeof k === "string" && !sd.has(k as string) && k !== "model"
      );
      if (others.length) report.notes.push(`other entries: ${others.join(", ")}`);
    }
    if (typeof ctor === "string") {
      report.notes.push(`args.model: ${ctor}`);
      checkCut3r(report, ctor, path, sd);
    }
    return report;
  }
  const src = await openSafetensors(path);
  return {
    path,
    kind: "safetensors",
    ...listing(src, componentOf),
    ...empty,
    notes: [
      "no configuration here: shapes are not checked (inspect the release or the converted model)",
    ],
  };
}

function checkCut3r(
  report: InspectReport,
  ctor: string,
  path: string,
  sd: Map<string, { shape: readonly number[] }>,
) {
  const cfg = cut3rConfig(ctor, path);
  // The CUT3R part of the architecture only depends on the CUT3R config.
  const specs = cut3rSpecs(cfg);
  const keys = new Map([...sd].map(([k, t]) => [k.replace(/^module\./, ""), t]));
  const hasState = [...keys.keys()].some((k) => k.startsWith("dec_blocks_state."));
  for (const s of specs) {
    let key = s.name.slice(CUT3R_PREFIX.length);
    if (!hasState) key = key.replace(/^dec_blocks_state\./, "dec_blocks.");
    const t = keys.get(key);
    if (!t) report.missing.push(key);
    else if (t.shape.join() !== s.shape.join()) {
      report.mismatched.push(
        `${key}: expected [${s.shape.join(", ")}], got [${t.shape.join(", ")}]`,
      );
    }
  }
  const used = new Set(specs.map((s) => s.name.slice(CUT3R_PREFIX.length)));
  for (const k of keys.keys()) if (!used.has(k)) report.unused.push(k);
}

function cut3rSpecs(cut3r: ReturnType<typeof cut3rConfig>) {
  const stub = {
    llm: { hidden: 1, intermediate: 1, layers: 0, heads: 1, kvHeads: 1, headDim: 1, vocab: 1 },
    vision: { hidden: 1, intermediate: 1, layers: 0, patchSize: 1, grid: 1 },
    fusion: { width: 1, spatialDim: 1 },
    cut3r,
  };
  return architecture(stub as never).filter((s) => s.component === "cut3r");
}

async function inspectModel(dir: string): Promise<InspectReport> {
  const m = await openModel(dir);
  const { tensors, parameters } = listing(m.source, componentOf);
  const report: InspectReport = {
    path: dir,
    kind: "model",
    tensors,
    parameters,
    missing: [],
    mismatched: [],
    unused: [],
    notes: [
      `vlm3r ${m.manifest.vlm3r}, ${m.manifest.dtype}, quantize ${m.manifest.quantize}` +
      (m.manifest.foldFusion ? ", fusion folded" : ""),
      `${m.manifest.shards.length} shards, pieces <= ${m.manifest.maxBindingBytes} bytes`,
      ...m.manifest.sources.map((s) =>
        `source ${s.role}: ${s.file} ${s.bytes} bytes sha256 ${s.sha256}`
      ),
    ],
  };
  const have = new Map(tensors.map((t) => [t.name, t]));
  const covered = new Set<string>();
  for (const s of architecture(m.config)) {
    const q = have.get(s.name.replace(/\.weight$/, ".qweight"));
    if (s.llmLinear && q) {
      covered.add(q.name).add(s.name.replace(/\.weight$/, ".scales"));
      const cols = m.manifest.quantize === "int4" ? q.shape[1] * 2 : q.shape[1];
      if (q.shape[0] !== s.shape[0] || cols !== s.shape[1]) {
        report.mismatched.push(`${s.name}: expected [${s.shape.join(", ")}]`);
      }
      continue;
    }
    const t = have.get(s.name);
    covered.add(s.name);
    if (!t) report.missing.push(s.name);
    else if (t.shape.join() !== s.shape.join()) {
      report.mismatched.push(
        `${s.name}: expected [${s.shape.join(", ")}], got [${t.shape.join(", ")}]`,
      );
    }
  }
  for (const t of tensors) {
    if (!covered.has(t.name) && !t.name.startsWith("model.fusion_block.folded.")) {
      report.unused.push(t.name);
    }
  }
  return report;
}

const mib = (b: number) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1);

async function run(ctx: Context): Promise<number> {
  const [path, ...rest] = ctx.positionals;
  if (rest.length) throw new UsageError(`one PATH at most, got ${ctx.positionals.length}`);
  const base = ctx.string("base"), lora = ctx.string("lora"), cut3r = ctx.string("cut3r");
  const some = [base, lora, cut3r].filter((x) => x !== undefined).length;
  if (some && some < 3) throw new UsageError("--base, --lora and --cut3r go together");
  if (some && path) throw new UsageError("give a PATH or --base/--lora/--cut3r, not both");
  const release = some
    ? { base: base!, lora: lora!, cut3r: cut3r!, siglip: ctx.string("siglip") }
    : undefined;
  const report = await inspectPath(path, release);
  const bad = report.missing.length + report.mismatched.length;
  if (ctx.flag("json")) {
    ctx.out(JSON.stringify(report, null, 1));
    return bad ? 1 : 0;
  }
  const rows = report.tensors.map((
    t,
  ) => [t.name, `[${t.shape.join(", ")}]`, t.dtype, mib(t.bytes)]);
  const w = [0, 1, 2, 3].map((i) =>
    Math.max(["tensor", "shape", "dtype", "MiB"][i].length, ...rows.map((r) => r[i].length))
  );
  const line = (r: string[]) =>
    `${r[0].padEnd(w[0])}  ${r[1].padEnd(w[1])}  ${r[2].padEnd(w[2])}  ${r[3].padStart(w[3])}`;
  ctx.out(
    `${report.path} (${report.kind}): ${report.tensors.length} tensors, ` +
      `${mib(report.tensors.reduce((a, t) => a + t.bytes, 0))} MiB`,
  );
  ctx.out(line(["tensor", "shape", "dtype", "MiB"]));
  for (const r of rows) ctx.out(line(r));
  ctx.out("");
  ctx.out("parameters per component:");
  for (const [c, n] of Object.entries(report.parameters)) {
    ctx.out(`  ${c.padEnd(10)} ${n.toLocaleString("en-US")}`);
  }
  for (const n of report.notes) ctx.out(n);
  const section = (title: string, items: string[]) => {
    if (!items.length) return;
    ctx.out(`${title} (${items.length}):`);
    for (const i of items) ctx.out(`  ${i}`);
  };
  section("missing", report.missing);
  section("mis-shaped", report.mismatched);
  section("unused (dropped when converting)", report.unused);
  if (bad) {
    ctx.err(
      `vlm3r inspect: ${report.missing.length} missing and ${report.mismatched.length} mis-shaped tensors`,
    );
  }
  return bad ? 1 : 0;
}
