import { assert, assertEquals, assertRejects } from "../assert.ts";
import { plyToMesh, readPly, writeMeshPly } from "../../scene/ply.ts";
import { DataError } from "../../io/errors.ts";
import { Rng } from "../../geometry/rng.ts";

Deno.test("PLY write/read round trip keeps positions, colours and faces", () => {
  const rng = new Rng("ply");
  const n = 500, f = 800;
  const positions = Float32Array.from({ length: 3 * n }, () => rng.uniform(-10, 10));
  const colors = Uint8Array.from({ length: 4 * n }, () => rng.int(0, 255));
  const triangles = Uint32Array.from({ length: 3 * f }, () => rng.int(0, n - 1));
  const bytes = writeMeshPly({ positions, colors, triangles });
  const ply = readPly(bytes, "rt.ply");
  assertEquals(ply.format, "binary_little_endian");
  const v = ply.elements.find((e) => e.name === "vertex")!;
  assertEquals([...v.scalars.keys()], ["x", "y", "z", "red", "green", "blue", "alpha"]);
  const mesh = plyToMesh(ply);
  assertEquals(Array.from(mesh.positions), Array.from(positions));
  assertEquals(Array.from(mesh.colors!), Array.from(colors));
  assertEquals(Array.from(mesh.triangles), Array.from(triangles));
});

Deno.test("PLY reader: ascii, big endian, quads and extra properties", () => {
  const ascii =
    "ply\nformat ascii 1.0\ncomment made by hand\nelement vertex 4\nproperty float x\n" +
    "property float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n" +
    "property float quality\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n" +
    "0 0 0 255 0 0 0.5\n1 0 0 0 255 0 0.5\n1 1 0 0 0 255 0.5\n0 1 0 9 9 9 0.5\n4 0 1 2 3\n";
  const a = plyToMesh(readPly(new TextEncoder().encode(ascii)));
  assertEquals(Array.from(a.triangles), [0, 1, 2, 0, 2, 3]);
  assertEquals(Array.from(a.colors!.subarray(0, 4)), [255, 0, 0, 255]);

  // Big endian with double coordinates and a ushort list count.
  const head = new TextEncoder().encode(
    "ply\nformat binary_big_endian 1.0\nelement vertex 3\nproperty double x\nproperty double y\n" +
      "property double z\nelement face 1\nproperty list ushort uint vertex_index\nend_header\n",
  );
  const body = new DataView(new ArrayBuffer(3 * 24 + 2 + 12));
  [1.5, 2, 3, 4, 5, 6, 7, 8, 9].forEach((x, i) => body.setFloat64(8 * i, x, false));
  body.setUint16(72, 3, false);
  [2, 1, 0].forEach((x, i) => body.setUint32(74 + 4 * i, x, false));
  const bytes = new Uint8Array(head.length + body.byteLength);
  bytes.set(head);
  bytes.set(new Uint8Array(body.buffer), head.length);
  const b = plyToMesh(readPly(bytes));
  assert(b.positions instanceof Float64Array, "double stays double");
  assertEquals(Array.from(b.positions), [1.5, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(Array.from(b.triangles), [2, 1, 0]);
});

Deno.test("PLY reader rejects truncated and malformed files naming file and field", async () => {
  const good = writeMeshPly({
    positions: Float32Array.of(0, 0, 0, 1, 0, 0, 0, 1, 0),
    triangles: Uint32Array.of(0, 1, 2),
  });
  const cut = good.subarray(0, good.length - 5);
  const e1 = await assertRejects(
    () => readPly(cut, "scene_vh_clean_2.ply"),
    /scene_vh_clean_2\.ply: element face/,
  );
  assert(e1 instanceof DataError);
  await assertRejects(() => readPly(new TextEncoder().encode("hello"), "x.ply"), /x\.ply: header/);
  const badType = new TextEncoder().encode(
    "ply\nformat ascii 1.0\nelement vertex 1\nproperty quux x\nend_header\n1\n",
  );
  await assertRejects(
    () => readPly(badType, "t.ply"),
    /t\.ply: property x: expected a known type, got quux/,
  );
  const badIndex = new TextEncoder().encode(
    "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n" +
      "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",
  );
  await assertRejects(
    () => plyToMesh(readPly(badIndex), "i.ply"),
    /i\.ply: face 0: expected vertex indices below 3/,
  );
});
