import { assert, assertEquals, assertRejects } from "../assert.ts";
import { replaceDir, writeFileAtomic, writeJsonAtomic } from "../../io/atomic.ts";
import { DataError } from "../../io/errors.ts";
import { decodeJpeg, decodePng, encodeJpeg, encodePng16, encodePng8 } from "../../io/image.ts";

async function listAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("atomic writes leave only the final file, and nothing when they fail", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/a.bin`, Uint8Array.of(1, 2, 3));
    await writeJsonAtomic(`${dir}/b.json`, { x: [1, 2] });
    await writeFileAtomic(`${dir}/a.bin`, Uint8Array.of(9));
    assertEquals(await listAll(dir), ["a.bin", "b.json"]);
    assertEquals(Array.from(await Deno.readFile(`${dir}/a.bin`)), [9]);
    assertEquals(await Deno.readTextFile(`${dir}/b.json`), '{\n  "x": [\n    1,\n    2\n  ]\n}\n');
    // Renaming onto a directory fails: the old content stays and no temp file is left over.
    await Deno.mkdir(`${dir}/c`);
    await assertRejects(() => writeFileAtomic(`${dir}/c`, "text"));
    assertEquals(await listAll(dir), ["a.bin", "b.json", "c"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceDir swaps a finished folder in, replacing the old one", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/final`);
    await Deno.writeTextFile(`${dir}/final/old.txt`, "old");
    await Deno.mkdir(`${dir}/build`);
    await Deno.writeTextFile(`${dir}/build/new.txt`, "new");
    await replaceDir(`${dir}/build`, `${dir}/final`);
    assertEquals(await listAll(dir), ["final"]);
    assertEquals(await listAll(`${dir}/final`), ["new.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DataError names the file, the field and what was expected", () => {
  const e = new DataError("x.json", "segGroups[3].objectId", "an integer", '"a"');
  assertEquals(e.message, 'x.json: segGroups[3].objectId: expected an integer, got "a"');
});

Deno.test("image codecs round-trip 8-bit and 16-bit PNG exactly, JPEG closely", () => {
  const w = 37, h = 23;
  const g8 = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) & 255);
  const g16 = Uint16Array.from({ length: w * h }, (_, i) => (i * 2654435761) >>> 16);
  const p8 = decodePng(encodePng8(g8, w, h));
  assertEquals([p8.width, p8.height, p8.channels], [w, h, 1]);
  assertEquals(Array.from(p8.data), Array.from(g8));
  const p16 = decodePng(encodePng16(g16, w, h));
  assert(p16.data instanceof Uint16Array, "16-bit stays 16-bit");
  assertEquals(Array.from(p16.data), Array.from(g16));
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    rgba.set([100 + 2 * (i % w), 80 + Math.floor(i / w), 60, 255], 4 * i);
  }
  const j = decodeJpeg(encodeJpeg(rgba, w, h, 95));
  let err = 0;
  for (let i = 0; i < rgba.length; i++) {
    if (i % 4 !== 3) err = Math.max(err, Math.abs(j.data[i] - rgba[i]));
  }
  assert(err < 12, `JPEG error ${err}`);
});
