/**
 * The language model's input embeddings for a prompt with one `<image>` placeholder
 * (model-reference.md §1.6, `prepare_inputs_labels_for_multimodal`): the text ids' embedding
 * rows before the placeholder, then the visual rows (pooled frames and their newlines), then
 * the text after it, unscaled.
 *
 * @module
 */

import { DataError } from "../io/errors.ts";
import { IMAGE_TOKEN_INDEX, spliceEmbeddings } from "./prompt.ts";
import type { TensorSource } from "./weights/source.ts";

/** Where the embedding matrix lives in the base checkpoint. */
export const EMBED_TOKENS = "model.embed_tokens.weight";

/**
 * `[L, D]` input embeddings: the rows of `embed` (`[vocab, D]` in `source`, read one row at a
 * time so the matrix is never widened whole) for the ids around the single
 * {@link IMAGE_TOKEN_INDEX}, with `visual` (`[V, D]`) in its place. An id outside the
 * vocabulary, or not exactly one placeholder, is a `DataError`.
 *
 * @example
 * ```ts
 * import { mapSource } from "./weights/source.ts";
 * const embed = { shape: [3, 2], data: new Float32Array([0, 0, 1, 1, 2, 2]), stored: "F32" as const };
 * const src = mapSource(new Map([[EMBED_TOKENS, embed]]));
 * const x = await spliceVisualTokens([2, -200, 1], new Float32Array([9, 9, 8, 8]), src);
 * if (x.join() !== "2,2,9,9,8,8,1,1") throw new Error(`${x}`);
 * ```
 */
export async function spliceVisualTokens(
  ids: ArrayLike<number>,
  visual: Float32Array,
  source: TensorSource,
  embed = EMBED_TOKENS,
): Promise<Float32Array> {
  const info = source.info(embed);
  if (!info || info.shape.length !== 2) {
    throw new DataError("weights", embed, "a tensor [vocab, D]", info ? `[${info.shape}]` : "none");
  }
  const [vocab, d] = info.shape;
  const list = Array.from(ids);
  const at = list.indexOf(IMAGE_TOKEN_INDEX);
  const count = list.filter((i) => i === IMAGE_TOKEN_INDEX).length;
  if (count !== 1) {
    throw new DataError("prompt", "input_ids", `one ${IMAGE_TOKEN_INDEX} (<image>)`, `${count}`);
  }
  if (visual.length % d !== 0) {
    throw new DataError("visual tokens", "width", `rows of ${d}`, `${visual.length} values`);
  }
  const text = new Float32Array((list.length - 1) * d);
  let row = 0;
  for (let k = 0; k < list.length; k++) {
    if (k === at) continue;
    const id = list[k];
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new DataError("prompt", `input_ids[${k}]`, `an id below ${vocab}`, `${id}`);
    }
    text.set((await source.read(embed, { start: id, count: 1 })).data, row++ * d);
  }
  return spliceEmbeddings(text, visual, at, d);
}
