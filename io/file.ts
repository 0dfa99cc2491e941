/**
 * Reading byte ranges of large files in place (ZIP members, `.sens` frames, MP4 headers).
 *
 * @module
 */

/**
 * Reads up to `length` bytes at `offset`; fewer when the file ends first.
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await Deno.writeFile(`${dir}/f`, Uint8Array.of(1, 2, 3, 4));
 * const file = await Deno.open(`${dir}/f`);
 * const b = await readAt(file, 2, 5);
 * file.close();
 * if (b.length !== 2 || b[0] !== 3) throw new Error();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function readAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = await file.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return buf.subarray(0, got);
}
