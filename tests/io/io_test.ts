import { assert, assertEquals, assertRejects } from "../assert.ts";
import {
  cleanupOnInterrupt,
  outputFolderProblem,
  parseTempName,
  removeTemps,
  replaceDir,
  tempPathFor,
  writeFileAtomic,
  writeJsonAtomic,
} from "../../io/atomic.ts";
import { DataError } from "../../io/errors.ts";
import {
  decodeJpeg,
  decodePng,
  encodeJpeg,
  encodePng16,
  encodePng8,
  pngInfo,
} from "../../io/image.ts";
import { encode as pngEncode } from "fast-png";

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

Deno.test("removeTemps removes exactly tempPathFor's names whose owner is gone", async () => {
  const dir = await Deno.makeTempDir();
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const live = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    // Our own temp name parses back to its target and this process.
    const own = tempPathFor(`${dir}/scene0000_00`);
    assertEquals(parseTempName(own.slice(dir.length + 1)), {
      target: "scene0000_00",
      pid: Deno.pid,
    });
    const names = {
      gone: `.scene0000_00.tmp-${dead.pid}-0`,
      goneFile: `.a.json.tmp-${dead.pid}-12`,
      live: `.scene0000_00.tmp-${live.pid}-0`,
      own: own.slice(dir.length + 1),
      notOurs: [
        `scene0000_00.tmp-${dead.pid}-0`, // not hidden
        `.scene0000_00.tmp-${dead.pid}`, // no counter
        `.scene0000_00.tmp-${dead.pid}-0.mp4`, // a suffix
        `.scene0000_00.tmp-${dead.pid}-0x`,
      ],
    };
    await Deno.mkdir(`${dir}/${names.gone}/sub`, { recursive: true });
    await Deno.writeTextFile(`${dir}/${names.goneFile}`, "");
    for (const d of [names.live, names.own, ...names.notOurs]) await Deno.mkdir(`${dir}/${d}`);
    assertEquals(removeTemps(`${dir}/missing`), []);
    assertEquals(removeTemps(dir, { targets: ["other"] }), []);
    assertEquals(removeTemps(dir), [`${dir}/${names.goneFile}`, `${dir}/${names.gone}`]);
    assertEquals(removeTemps(dir, { owner: "self" }), [own]);
    assertEquals(await listAll(dir), [names.live, ...names.notOurs].sort());
  } finally {
    live.kill("SIGKILL");
    await live.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("outputFolderProblem: a file, or a file above, cannot be an output folder", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/f`, "");
    assertEquals(outputFolderProblem(`${dir}/f`), `${dir}/f is a file, not a folder`);
    assertEquals(outputFolderProblem(`${dir}/f/a/b`), `${dir}/f/a/b: ${dir}/f is a file`);
    assertEquals(outputFolderProblem(dir), undefined);
    assertEquals(outputFolderProblem(`${dir}/new/deeper`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cleanupOnInterrupt passes the body's value and errors through, untouched", async () => {
  let cleaned = false;
  assertEquals(await cleanupOnInterrupt(() => (cleaned = true), () => Promise.resolve(1)), 1);
  await assertRejects(() =>
    cleanupOnInterrupt(() => (cleaned = true), () => Promise.reject(new Error("x")))
  );
  assert(!cleaned, "cleanup runs only on a signal");
});

Deno.test("pngInfo reads bit depth and colour type as the decoder does", () => {
  const cases = [
    { png: encodePng8(new Uint8Array(6), 3, 2), want: [3, 2, 8, 1, "greyscale"] },
    { png: encodePng16(new Uint16Array(6), 2, 3), want: [2, 3, 16, 1, "greyscale"] },
    {
      png: pngEncode({ width: 2, height: 1, data: new Uint8Array(6), channels: 3, depth: 8 }),
      want: [2, 1, 8, 3, "RGB"],
    },
    {
      png: pngEncode({ width: 1, height: 1, data: new Uint16Array(4), channels: 4, depth: 16 }),
      want: [1, 1, 16, 4, "RGBA"],
    },
  ];
  for (const { png, want } of cases) {
    const info = pngInfo(png)!;
    const img = decodePng(png);
    assertEquals([info.width, info.height, info.bitDepth, info.channels, info.colorType], want);
    assertEquals([img.width, img.height, img.channels], [info.width, info.height, info.channels]);
    assertEquals(img.data instanceof Uint16Array, info.bitDepth === 16);
  }
  assertEquals(pngInfo(encodeJpeg(new Uint8Array(64), 4, 4)), undefined);
  assertEquals(pngInfo(encodePng8(new Uint8Array(1), 1, 1).subarray(0, 20)), undefined);
});
