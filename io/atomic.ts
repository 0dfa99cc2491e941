/**
 * Atomic file output: every file vlm3r writes goes to a temporary name in the same folder and
 * is renamed into place, so a crash never leaves a half-written file behind.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

let counter = 0;

/** A fresh temporary path next to `path` (same folder, so the rename is atomic). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${Deno.pid}-${counter++}`);
}

/**
 * Writes `data` to `path` atomically (temp file + rename).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello\n");
 * if (await Deno.readTextFile(`${dir}/a.txt`) !== "hello\n") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Writes `value` as JSON (two-space indent, trailing newline) atomically.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writeJsonAtomic(`${dir}/a.json`, { a: 1 });
 * if (JSON.parse(await Deno.readTextFile(`${dir}/a.json`)).a !== 1) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeJsonAtomic(path: string, value: unknown, indent = 2): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, indent) + "\n");
}

/**
 * Moves a finished folder `from` to `to`, replacing what was there: readers see the old
 * folder or the new one, never a mix. (`to` briefly does not exist between the two renames.)
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.mkdir(`${dir}/new`);
 * await Deno.writeTextFile(`${dir}/new/x`, "1");
 * await replaceDir(`${dir}/new`, `${dir}/final`);
 * if (await Deno.readTextFile(`${dir}/final/x`) !== "1") throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function replaceDir(from: string, to: string): Promise<void> {
  const old = tempPathFor(to);
  let moved = false;
  try {
    await Deno.rename(to, old);
    moved = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  await Deno.rename(from, to);
  if (moved) await Deno.remove(old, { recursive: true });
}
