/**
 * The checkpoint's tokenizer through `@huggingface/tokenizers` (pure TypeScript, reads
 * `tokenizer.json` as the Rust library does): Qwen2's byte-level BPE with its added special
 * tokens (`<|im_start|>` 151644, `<|im_end|>` 151645, `<image>` 151646, model-reference.md
 * §1.6). Encoding adds no special tokens (Qwen2 has no BOS); decoding can skip them.
 *
 * @module
 */

import { Tokenizer as HfTokenizer } from "@huggingface/tokenizers";
import { DataError } from "../io/errors.ts";

/** A loaded tokenizer. Create with {@link Tokenizer.load} or {@link Tokenizer.fromJson}. */
export class Tokenizer {
  readonly #tok: HfTokenizer;
  readonly #special: Set<number>;
  /** Number of ids (vocabulary plus added tokens): `len(tokenizer)` in HF terms. */
  readonly length: number;

  private constructor(tok: HfTokenizer, json: TokenizerJson) {
    this.#tok = tok;
    const added = json.added_tokens ?? [];
    this.#special = new Set(added.filter((t) => t.special).map((t) => t.id));
    let top = -1;
    for (const id of Object.values(json.model?.vocab ?? {})) if (id > top) top = id;
    for (const t of added) if (t.id > top) top = t.id;
    this.length = top + 1;
  }

  /**
   * Reads `tokenizer.json` (and `tokenizer_config.json` beside it when present) from `dir`.
   *
   * @example
   * ```ts ignore
   * const tok = await Tokenizer.load("LLaVA-Video-7B-Qwen2");
   * tok.encode("<|im_start|>system\n"); // [151644, 8948, 198]
   * ```
   */
  static async load(dir: string): Promise<Tokenizer> {
    const file = `${dir}/tokenizer.json`;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      throw new DataError(file, "file", "a tokenizer.json", (e as Error).message);
    }
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(await Deno.readTextFile(`${dir}/tokenizer_config.json`));
    } catch {
      // optional
    }
    return Tokenizer.fromJson(parse(text, file), config, file);
  }

  /** A tokenizer from parsed `tokenizer.json` (and `tokenizer_config.json`) objects. */
  static fromJson(
    json: TokenizerJson,
    config: Record<string, unknown> = {},
    file = "tokenizer.json",
  ): Tokenizer {
    if (json.model?.type !== "BPE" || typeof json.model.vocab !== "object") {
      throw new DataError(file, "model", "a BPE model with a vocab", String(json.model?.type));
    }
    return new Tokenizer(new HfTokenizer(json as never, config as never), json);
  }

  /** Ids of `text`, special tokens matched as added tokens, none inserted. */
  encode(text: string): number[] {
    return this.#tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`; `skipSpecial` drops special tokens (`skip_special_tokens=True`). */
  decode(ids: readonly number[], skipSpecial = true): string {
    const kept = skipSpecial ? ids.filter((id) => !this.#special.has(id)) : [...ids];
    return this.#tok.decode(kept, { skip_special_tokens: skipSpecial });
  }

  /** The id of a token string (an added token such as `<|im_end|>`), or undefined. */
  id(token: string): number | undefined {
    return this.#tok.token_to_id(token) ?? undefined;
  }
}

/** The parts of `tokenizer.json` this module looks at. */
export interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  [key: string]: unknown;
}

function parse(text: string, file: string): TokenizerJson {
  try {
    return JSON.parse(text);
  } catch {
    throw new DataError(file, "file", "JSON");
  }
}
