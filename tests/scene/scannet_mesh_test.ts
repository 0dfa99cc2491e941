import { assert, assertAlmostEquals, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { readScannetMesh } from "../../scene/scannet_mesh.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";

Deno.test("readScannetMesh gives the aligned labelled mesh of a synth scan", async () => {
  const out = await Deno.makeTempDir();
  try {
    const scene = synthScene("mesh-reader", 0, { frames: 1, width: 16, height: 16 });
    const { dir } = await writeSynthScene(scene, out, { workers: 1, video: "none" });
    const mesh = await readScannetMesh(dir);
    assertEquals(mesh.scene, scene.name);
    assertEquals(mesh.positions.length, scene.mesh.positions.length);
    // Raw float32 positions moved back by axisAlignment match the aligned truth.
    let worst = 0;
    for (let i = 0; i < mesh.positions.length; i++) {
      worst = Math.max(worst, Math.abs(mesh.positions[i] - scene.mesh.positions[i]));
    }
    assert(worst < 1e-5, `aligned positions off by ${worst}`);
    assertEquals(Array.from(mesh.triangles), Array.from(scene.mesh.triangles));
    for (const o of scene.layout.objects) {
      assertEquals(mesh.instances.find((g) => g.objectId === o.instanceId)?.label, o.category);
    }
    // Vertex labels agree with the instance each vertex was built for.
    const expected = new Int32Array(mesh.vertexInstance.length);
    for (let t = 0; t < scene.mesh.triangles.length; t++) {
      expected[scene.mesh.triangles[t]] = scene.mesh.triangleInstance[Math.floor(t / 3)];
    }
    assertEquals(Array.from(mesh.vertexInstance), Array.from(expected));
    assertAlmostEquals(mesh.axisAlignment[3], scene.axisAlignment[3], 0);

    // Corrupt inputs are reported by file and field.
    const segs = join(dir, `${scene.name}_vh_clean_2.0.010000.segs.json`);
    await Deno.writeTextFile(segs, '{"segIndices": [1, 2]}');
    await assertRejects(
      () => readScannetMesh(dir),
      /segs\.json: segIndices: expected an array of \d+ integers/,
    );
    await Deno.writeTextFile(segs, "{not json");
    await assertRejects(() => readScannetMesh(dir), /segs\.json: JSON: expected valid JSON/);
    await Deno.writeTextFile(join(dir, `${scene.name}.txt`), "axisAlignment = 1 2 3\n");
    await assertRejects(
      () => readScannetMesh(dir),
      /\.txt: axisAlignment: expected 16 numbers forming a rigid transform/,
    );
    await Deno.remove(join(dir, `${scene.name}_vh_clean_2.ply`));
    await assertRejects(
      () => readScannetMesh(dir),
      /_vh_clean_2\.ply: file: expected an existing file/,
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
