// `vlm3r route`: the command contract, and its map rendered in headless Chromium.

import { join } from "node:path";
import { main } from "../../cli/main.ts";
import { routeDemo } from "../../cli/route.ts";
import { decodePng } from "../../io/image.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { writeMeshPly } from "../../scene/ply.ts";
import { assert, assertEquals } from "../assert.ts";
import { MeshBuilder } from "../geometry/_meshes.ts";
import { capture, needs, renderSvg } from "../_support.ts";
import { anyOverlap } from "../../geometry/labels.ts";

async function scan(dir: string): Promise<string> {
  const scene = synthScene("route-cli", 0, { frames: 1, width: 16, height: 16, layout: "room" });
  return (await writeSynthScene(scene, dir, { workers: 1, video: "none" })).dir;
}

Deno.test("vlm3r route: questions, records, navmesh JSON and a map Chromium can render", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scene = await scan(dir);
    const svg = join(dir, "map.svg"), png = join(dir, "map.png"), out = join(dir, "q.jsonl");
    const io = capture();
    const code = await main(
      [
        "route",
        "--scene",
        scene,
        "--svg",
        svg,
        "--questions",
        "4",
        "--out",
        out,
        "--from",
        "1,1",
        "--to",
        "2,2",
        "--navmesh",
        join(dir, "nav.json"),
      ],
      io,
    );
    assertEquals(code, 0, io.err);
    assert(/navmesh of \d+ polygons, 1 island\(s\)/.test(io.out), io.out);
    assert(/route 1,1 -> 2,2: path [\d.]+ m/.test(io.out), io.out);
    const records = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
    assert(records.length >= 1 && records.every((r) => r.question_type === "route_planning"));
    const nav = JSON.parse(await Deno.readTextFile(join(dir, "nav.json")));
    assertEquals(nav.format, "vlm3r-navmesh");

    // The rendering half needs Chromium; the rest of the test runs without it.
    if (!needs("chromium").ignore) {
      await renderSvg(svg, png);
      const img = decodePng(await Deno.readFile(png));
      const text = await Deno.readTextFile(svg);
      assertEquals(img.width, Number(text.match(/width="(\d+)"/)![1]));
      // The navmesh's blue over the floor and the first route's red must be visible.
      let blue = 0, red = 0;
      for (let i = 0; i < img.width * img.height; i++) {
        const [r, g, b] = [
          img.data[i * img.channels],
          img.data[i * img.channels + 1],
          img.data[i * img.channels + 2],
        ];
        if (b > r + 25 && b > g && r < 200) blue++;
        if (r > 180 && g < 90 && b < 90) red++;
      }
      assert(blue > img.width * img.height * 0.1, `navmesh pixels ${blue}`);
      assert(red > 100, `route pixels ${red}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vlm3r route: a plain PLY mesh, usage errors exit 2, bad files exit 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const m = new MeshBuilder().room(0, 0, 5, 4).mesh();
    const ply = join(dir, "room.ply");
    await Deno.writeFile(
      ply,
      writeMeshPly({
        positions: Float64Array.from(m.positions),
        triangles: Uint32Array.from(m.triangles),
      }),
    );
    let io = capture();
    assertEquals(
      await main(["route", "--mesh", ply, "--from", "1,1", "--to", "4,3"], io),
      0,
      io.err,
    );
    assert(io.out.includes("path 3.61 m, 0 corner(s)"), io.out);
    for (
      const [args, message] of [
        [["route"], /exactly one of --mesh FILE or --scene DIR/],
        [["route", "--mesh", ply, "--from", "1,1"], /give both --from and --to/],
        [["route", "--mesh", ply, "--from", "1", "--to", "2,2"], /--from expects X,Y/],
        [["route", "--mesh", ply, "--meta", "m.json"], /--meta needs --scene/],
      ] as [string[], RegExp][]
    ) {
      io = capture();
      assertEquals(await main(args, io), 2, args.join(" "));
      assert(message.test(io.err), io.err);
    }
    io = capture();
    assertEquals(await main(["route", "--mesh", join(dir, "none.ply")], io), 1);
    assert(
      /none\.ply: file: expected an existing file/.test(io.err) && io.err.split("\n").length === 2,
      io.err,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("routeDemo writes the demo scene's map and questions", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const lines = await routeDemo(await scan(dir), dir);
    assert(lines[0].startsWith("route: navmesh"), lines[0]);
    assert((await Deno.readTextFile(join(dir, "route_map.svg"))).startsWith("<svg"));
    await Deno.stat(join(dir, "route_questions.jsonl"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("vlm3r route --svg draws every question it asks, with labels that do not overlap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const scene = await scan(dir);
    const svg = join(dir, "map.svg"), out = join(dir, "q.jsonl");
    const io = capture();
    const code = await main(
      ["route", "--scene", scene, "--svg", svg, "--questions", "7", "--out", out],
      io,
    );
    assertEquals(code, 0, io.err);
    const records = (await Deno.readTextFile(out)).trim().split("\n");
    const text = await Deno.readTextFile(svg);
    // One polyline and one legend line per question.
    assertEquals((text.match(/<polyline /g) ?? []).length, records.length);
    for (let i = 1; i <= records.length; i++) assert(text.includes(`>Q${i}: `), `Q${i} missing`);
    assert(io.out.includes(`(${records.length} route(s) drawn)`), io.out);
    // Every label's box, as the map lays it out, is clear of every other.
    const boxes = [...text.matchAll(
      /<text x="([\d.-]+)" y="([\d.-]+)" font-size="(\d+)"[^>]* data-w="([\d.]+)" data-h="([\d.]+)"/g,
    )].map(([, x, y, size, w, h]) => ({
      x: Number(x),
      y: Number(y) - Number(size),
      width: Number(w),
      height: Number(h),
    }));
    assert(boxes.length >= records.length * 2, `${boxes.length} labels`);
    assert(!anyOverlap(boxes, 0.5), "labels overlap");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
