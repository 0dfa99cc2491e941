// Route planning inside `vlm3r gen`: synth -> meta -> gen with the scans' meshes read from the
// raw folders (--scenes-root); every record checked against its own geometry and the metadata.

import { join } from "node:path";
import { main } from "../../cli/main.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import type { QaRecord } from "../../qa/types.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { readSceneMesh } from "../../scene/mesh_source.ts";
import { runMeta } from "../../scene/meta_run.ts";
import { metadataPaths, type ObjectBox, type SceneMetaFile } from "../../scene/metadata.ts";
import { writeMeshPly } from "../../scene/ply.ts";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { assert, assertEquals } from "../assert.ts";
import { MeshBuilder } from "../geometry/_meshes.ts";
import { capture } from "../_support.ts";

async function records(file: string): Promise<QaRecord[]> {
  const text = (await Deno.readTextFile(file)).trimEnd();
  return text ? text.split("\n").map((l) => JSON.parse(l) as QaRecord) : [];
}

const SCENES = 3;
let synthCache: Promise<{ root: string; metaDir: string; metaFile: string }> | undefined;
/** Three small synthetic scans (an apartment, two rooms) and their metadata from `meta`. */
function synthData() {
  return synthCache ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "vlm3r-route-gen-" });
    // Shared by the tests of this file; removed when the test run ends.
    globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
    for (let i = 0; i < SCENES; i++) {
      // An apartment (routes through doorways) and single rooms.
      const layout = i === 0 ? "apartment" : "room";
      const scene = synthScene("gen-route", i, { frames: 4, width: 32, height: 24, layout });
      await writeSynthScene(scene, root, { workers: 1, video: "none" });
    }
    const out = join(root, "processed");
    const summary = await runMeta({
      dataset: "scannet",
      root,
      out,
      split: "val",
      labels: DEFAULT_LABELS.scannet,
      frames: 4,
      seed: "0",
      workers: 1,
      format: "json",
      strict: true,
    });
    assertEquals(summary.failed, []);
    const metaFile = metadataPaths(out, "scannet", "val").scenes;
    return { root, metaDir: join(out, "metadata", "val"), metaFile };
  })();
}

/** Independent closest-point distance: clamp into the box along its axes, measure in world. */
function boxDistance(p: Readonly<Vec3>, b: ObjectBox): number {
  const q = [...b.centroid];
  for (let i = 0; i < 3; i++) {
    const a = b.normalizedAxes.slice(3 * i, 3 * i + 3);
    const t = a.reduce((s, v, k) => s + v * (p[k] - b.centroid[k]), 0);
    const h = b.axesLengths[i] / 2, c = Math.max(-h, Math.min(h, t));
    for (let k = 0; k < 3; k++) q[k] += c * a[k];
  }
  return Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);
}

/** The authors' landmark distance: the nearest of the four corners of centre +- half sides. */
function cornerDistance(p: Readonly<Vec3>, b: ObjectBox): number {
  let best = Infinity;
  for (const sx of [-1, 1]) {
    for (const sy of [-1, 1]) {
      const x = b.centroid[0] + sx * b.axesLengths[0] / 2,
        y = b.centroid[1] + sy * b.axesLengths[1] / 2;
      best = Math.min(best, Math.hypot(p[0] - x, p[1] - y));
    }
  }
  return best;
}

function dir(a: readonly number[], b: readonly number[]): Vec3 {
  return [b[0] - a[0], b[1] - a[1], 0];
}
function cross2(a: Vec3, b: Vec3): number {
  return a[0] * b[1] - a[1] * b[0];
}
function angle(a: Vec3, b: Vec3): number {
  const c = (a[0] * b[0] + a[1] * b[1]) / (Math.hypot(a[0], a[1]) * Math.hypot(b[0], b[1]));
  return Math.acos(Math.max(-1, Math.min(1, c))) * 180 / Math.PI;
}

const HEAD = "You are a robot beginning at the ";
const NOTE =
  " You will perform the following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or 'turn right.'): ";
/** Millimetre rounding of the record's points, as slack for comparisons. */
const MM = 2e-3;

interface Anchor {
  role: string;
  category: string;
  instance_id: number;
  point: Vec3;
}

/**
 * Every property of a route record, recomputed from its poses and anchors and the scene's
 * metadata boxes; returns its kind (turns with n blanks, back, or the alternative).
 */
function checkRouteRecord(
  r: QaRecord,
  bboxes: Record<string, ObjectBox[]>,
  rule: "nearest-surface" | "nearest-corner" = "nearest-surface",
): string {
  assertEquals(r.question_type, "route_planning");
  const options = r.options as string[];
  const answer = String(r.ground_truth);
  const actions = answer.split(", ");
  // The lettered option is the answer text; options distinct, VSI-Bench's format.
  assertEquals(options["ABCD".indexOf(r.mc_answer!)], `${r.mc_answer}. ${answer}`, r.id);
  assertEquals(new Set(options.map((o) => o.slice(3))).size, options.length);
  assertEquals(options.length, actions.length === 1 ? 3 : 4);
  for (const [k, o] of options.entries()) {
    assert(
      new RegExp(`^${"ABCD"[k]}\\. Turn (Left|Right|Back)(, Turn (Left|Right|Back))*$`).test(o),
    );
  }
  assert(r.question.startsWith(HEAD) && r.question.includes(NOTE), r.question);
  assert(r.question.endsWith(" You have reached the final destination."), r.question);
  assertEquals(r.question.split("[please fill in]").length - 2, actions.length, "one blank each");
  const path = r.path as Vec3[], anchors = r.anchors as Anchor[];
  const n = path.length;
  // Turns between the poses' steps: more than 30 degrees. Millimetre rounding moves angles
  // near 30 a little: those may go either way, the others must be as the record says.
  const turnAt = (i: number) => {
    const a = dir(path[i - 1], path[i]), b = dir(path[i], path[i + 1]);
    return { index: i, left: cross2(a, b) > 0, deg: angle(a, b) };
  };
  const said = anchors.filter((a) => a.role === "turn").map((a) =>
    path.findIndex((p, i) => i > 0 && i < n - 1 && p.every((v, k) => v === a.point[k]))
  );
  const turns: { index: number; left: boolean; deg: number }[] = [];
  for (let i = 1; i + 1 < n; i++) {
    const t = turnAt(i);
    if (t.deg > 30.5 || (t.deg > 29.5 && said.includes(i))) turns.push(t);
  }
  const byRole = (role: string) => anchors.find((a) => a.role === role)!;
  const names = anchors.map((a) => a.category);
  let kind: string;
  if (r.route_form === "turns") {
    // Template 1: each blank is the turn at the next turning pose, left when counter-clockwise.
    kind = `turns:${actions.length}`;
    assertEquals(actions, turns.map((t) => t.left ? "Turn Left" : "Turn Right"), r.id);
    assertEquals(anchors.map((a) => a.role), ["start", ...actions.map(() => "turn"), "end"]);
    assertEquals(anchors.map((a) => a.point), [
      path[0],
      ...turns.map((t) => path[t.index]),
      path[n - 1],
    ]);
    const steps = names.slice(1).map((n, i) =>
      (i > 0 ? "[please fill in] " : "") + `Go forward until the ${n}.`
    );
    const numbered = steps.join(" ").split(/ (?=\[please|Go forward)/).map((s, i) =>
      `${i + 1}. ${s}`
    );
    assertEquals(
      r.question,
      `${HEAD}${names[0]} facing the ${names[1]}. You want to navigate to the ${
        names[names.length - 1]
      }.${NOTE}${numbered.join(" ")} You have reached the final destination.`,
    );
  } else if (r.route_form === "back") {
    // No turn: at the middle pose facing the end, the start is behind.
    kind = "back";
    assertEquals(answer, "Turn Back");
    assertEquals(turns, []);
    const s = byRole("start"), m = byRole("mid"), e = byRole("end");
    assertEquals([s.point, m.point, e.point], [path[0], path[Math.floor(n / 2)], path[n - 1]]);
    assert(angle(dir(m.point, s.point), dir(m.point, e.point)) > 150);
    assertEquals(
      r.question,
      `${HEAD}${m.category} facing the ${e.category}. You want to navigate to the ` +
        `${s.category}.${NOTE}1. [please fill in] 2. Go forward until the ${s.category}. ` +
        "You have reached the final destination.",
    );
  } else {
    // The alternative: at the turn facing the end, back to the start.
    kind = "alternative";
    assertEquals(r.route_form, "alternative");
    assertEquals(turns.length, 1);
    assert(turns[0].deg > 45 - 0.1, "turns above 45 only");
    const s = byRole("start"), m = byRole("turn"), e = byRole("end");
    assertEquals(m.point, path[turns[0].index]);
    assertEquals(actions, [turns[0].left ? "Turn Left" : "Turn Right"]);
    assertEquals(cross2(dir(m.point, e.point), dir(m.point, s.point)) > 0, turns[0].left);
    assertEquals(
      r.question,
      `${HEAD}${m.category} facing the ${e.category}. You want to navigate to the ` +
        `${s.category}.${NOTE}1. [please fill in] 2. Go forward until the ${s.category}. ` +
        "You have reached the final destination.",
    );
  }
  assert(
    ["path", "reverse", "first", "first-reverse", "last", "last-reverse"].includes(
      r.route_variant as string,
    ),
  );
  // The route's ends are anchor points.
  assertEquals(byRole("start").point, path[0]);
  assertEquals(byRole("end").point, path[n - 1]);
  // Landmarks: the nearest box whose category is unique in the scene (by its surface within
  // 2.5 m, or by the nearest corner of its axis-aligned footprint); distinct.
  const unique = Object.entries(bboxes).filter(([, list]) => list.length === 1)
    .map(([category, [box]]) => ({ category, box }));
  const distance = rule === "nearest-surface" ? boxDistance : cornerDistance;
  for (const a of anchors) {
    const ranked = unique.map((u) => ({ ...u, d: distance(a.point, u.box) }))
      .sort((x, y) => x.d - y.d);
    const mine = ranked.find((u) => u.box.instance_id === a.instance_id);
    assert(mine && mine.category === a.category, `${a.category} is unique in the scene`);
    assert(mine.d <= ranked[0].d + MM, `${r.id}: ${a.role} anchor`);
    if (rule === "nearest-surface") assert(mine.d <= 2.5 + MM, `${r.id}: within 2.5 m`);
  }
  assertEquals(new Set(names).size, names.length);
  return kind;
}

/** Correct letters per option count over a run: within one of each other. */
function assertBalanced(rs: readonly QaRecord[]): void {
  const used = new Map<number, number[]>();
  for (const r of rs) {
    const n = (r.options as string[]).length;
    const counts = used.get(n) ?? new Array(n).fill(0);
    counts["ABCD".indexOf(r.mc_answer!)]++;
    used.set(n, counts);
  }
  for (const [n, counts] of used) {
    assert(Math.max(...counts) - Math.min(...counts) <= 1, `${n} options: letters ${counts}`);
  }
}

Deno.test("gen --tasks route_planning on synth scans: turns from the legs, nearest unique anchors, the answer follows the path", async () => {
  const { root, metaDir, metaFile } = await synthData();
  const metas: SceneMetaFile = JSON.parse(await Deno.readTextFile(metaFile));
  const dir = await Deno.makeTempDir();
  try {
    const out = join(dir, "routes.jsonl");
    const args = ["gen", "--tasks", "route_planning", "--meta", metaDir, "--scenes-root", root];
    const io = capture();
    assertEquals(await main([...args, "--out", out, "--per-scene", "12", "--seed", "7"], io), 0);
    assertEquals(io.err, "");
    const rs = await records(out);
    const kinds = new Set<string>();
    for (const r of rs) kinds.add(checkRouteRecord(r, metas[r.scene_name].object_bboxes));
    assert(rs.length >= 12, `${rs.length} questions`);
    assertEquals(new Set(rs.map((r) => r.scene_name)).size, SCENES);
    assert(kinds.has("turns:1") && kinds.has("alternative"), [...kinds].join());
    assertBalanced(rs);
    assertEquals(new Set(rs.map((r) => r.id)).size, rs.length);
    assert(io.out.startsWith(`${rs.length} questions of 1 types from ${SCENES} scenes`), io.out);

    // One seed, the same bytes whatever the worker count.
    const two = join(dir, "two.jsonl");
    const io2 = capture();
    assertEquals(
      await main(
        [...args, "--out", two, "--per-scene", "12", "--seed", "7", "--workers", "2"],
        io2,
      ),
      0,
      io2.err,
    );
    assertEquals(await Deno.readTextFile(two), await Deno.readTextFile(out));

    // `vlm3r route` on the first scene with its metadata: the very records gen wrote for it.
    const first = rs[0].scene_name, mine = rs.filter((r) => r.scene_name === first);
    const routeOut = join(dir, "route.jsonl");
    const scan = join(root, first);
    const io3 = capture();
    assertEquals(
      await main(
        [
          "route",
          "--scene",
          scan,
          "--meta",
          metaFile,
          "--seed",
          "7",
          "--questions",
          "12",
          "--out",
          routeOut,
        ],
        io3,
      ),
      0,
      io3.err,
    );
    assertEquals(await records(routeOut), mine);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gen and route --landmark nearest-corner: the authors' landmarks; --stats prints the answer mix", async () => {
  const { root, metaDir, metaFile } = await synthData();
  const metas: SceneMetaFile = JSON.parse(await Deno.readTextFile(metaFile));
  const dir = await Deno.makeTempDir();
  try {
    const run = async (landmark: string, out: string) => {
      const io = capture();
      const args = ["gen", "--tasks", "route_planning", "--meta", metaDir, "--scenes-root", root];
      const more = ["--out", out, "--per-scene", "12", "--seed", "3", "--stats"];
      assertEquals(await main([...args, ...more, "--landmark", landmark], io), 0, io.err);
      return { rs: await records(out), out: io.out };
    };
    const corner = await run("nearest-corner", join(dir, "corner.jsonl"));
    const surface = await run("nearest-surface", join(dir, "surface.jsonl"));
    for (const r of corner.rs) {
      checkRouteRecord(r, metas[r.scene_name].object_bboxes, "nearest-corner");
    }
    assert(corner.rs.length >= 12);
    assert(
      JSON.stringify(corner.rs.map((r) => r.question)) !==
        JSON.stringify(surface.rs.map((r) => r.question)),
      "the rule changes the questions",
    );
    // The mix --stats prints, recomputed from the records.
    const actions = corner.rs.flatMap((r) => String(r.ground_truth).split(", "));
    const back = actions.filter((a) => a === "Turn Back").length;
    const many = corner.rs.filter((r) => String(r.ground_truth).includes(",")).length;
    const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
    assert(
      corner.out.includes(
        `route_planning answer mix: ${corner.rs.length} questions; 1 blank ` +
          `${corner.rs.length - many}`,
      ) &&
        corner.out.includes(`(${pct(many / corner.rs.length)} with two or more)`) &&
        corner.out.includes(`(Turn Back ${pct(back / actions.length)} of ${actions.length})`),
      corner.out,
    );
    // vlm3r route asks the same with the same rule.
    const first = corner.rs[0].scene_name;
    const out = join(dir, "route.jsonl");
    const io = capture();
    const args = ["route", "--scene", join(root, first), "--meta", metaFile, "--seed", "3"];
    const more = ["--questions", "12", "--landmark", "nearest-corner", "--out", out, "--stats"];
    assertEquals(await main([...args, ...more], io), 0, io.err);
    assertEquals(await records(out), corner.rs.filter((r) => r.scene_name === first));
    assert(io.out.includes("route_planning answer mix: "), io.out);
    // A rule that does not exist is a usage error.
    assertEquals(await main([...args, "--landmark", "nearest-thing"], capture()), 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gen route_planning: a missing scan or boxes in another frame cost that scene its routes, with one line each", async () => {
  const { root, metaFile } = await synthData();
  const metas: SceneMetaFile = JSON.parse(await Deno.readTextFile(metaFile));
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = Object.keys(metas).sort();
    const shift = (x: number[], d: number[]) => x.map((v, k) => v - d[k]);
    // Boxes moved as VSI-Bench's ScanNet meta info moves them (mean-centred), and a scan
    // that is not on disk.
    const moved = structuredClone(metas[b]);
    const d = [3.2, 2.6, 1.3];
    for (const list of Object.values(moved.object_bboxes)) {
      for (const box of list) {
        box.centroid = shift(box.centroid, d) as Vec3;
        box.min = shift(box.min, d) as Vec3;
        box.max = shift(box.max, d) as Vec3;
      }
    }
    const gone = { ...structuredClone(metas[a]), scene_name: "scene0999_00" };
    const file = join(dir, "scannet_metadata_val.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ [a]: metas[a], [b]: moved, scene0999_00: gone }),
    );
    const out = join(dir, "q.jsonl");
    const io = capture();
    const code = await main(
      [
        "gen",
        "--tasks",
        "route_planning,room_size_estimation",
        "--meta",
        file,
        "--scenes-root",
        root,
        "--out",
        out,
      ],
      io,
    );
    // Meshes given but unusable: exit 1, after the other questions are written.
    assertEquals(code, 1, io.err);
    const lines = io.err.trimEnd().split("\n");
    assertEquals(lines.length, 3, io.err);
    assertEquals(
      lines[2],
      `vlm3r gen: 2 input problems (listed above) cost questions; the others are in ${out}`,
    );
    assertEquals(
      lines[0],
      `skipped route_planning on scannet/${b}: ${join(root, b, `${b}_vh_clean_2.ply`)}: bounds: ` +
        "expected the scene metadata's boxes inside the mesh (one frame; VSI-Bench's ScanNet " +
        "meta info is mean-centred: use vlm3r meta's metadata), got " +
        lines[0].match(/got (\d+ of \d+ box centres)$/)![1],
    );
    assertEquals(
      lines[1],
      `skipped route_planning on scannet/scene0999_00: ${join(root, "scene0999_00")}: scene: ` +
        "expected the scannet scene folder, got none",
    );
    assert(io.out.includes("(2 unusable meshes)"), io.out);
    const rs = await records(out);
    const routes = rs.filter((r) => r.question_type === "route_planning");
    assert(routes.length > 0 && routes.every((r) => r.scene_name === a));
    // The other task still runs on every scene.
    const roomSizes = new Set(
      rs.filter((r) => r.question_type === "room_size_estimation").map((r) => r.scene_name),
    );
    assertEquals(roomSizes.size, 3);

    // Without --scenes-root the task is skipped, said once.
    const io2 = capture();
    assertEquals(
      await main(["gen", "--tasks", "route_planning", "--meta", file, "--out", out], io2),
      0,
    );
    assertEquals(io2.err, "skipped in 3 scenes without a mesh (--scenes-root): route_planning\n");
    assertEquals(await records(out), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A 9 x 7 m room with a wall from the left to x = 6 and objects standing on the floor. */
function layoutRoom(): {
  mesh: { positions: number[]; triangles: number[] };
  boxes: Record<string, ObjectBox[]>;
} {
  const m = new MeshBuilder().room(0, 0, 9, 7).box(0, 3.2, 0, 6, 3.8, 2.5);
  const spots: [string, number, number][] = [
    ["sofa", 1, 1],
    ["table", 4.5, 1],
    ["bed", 7.8, 1.2],
    ["tv", 7.5, 3.5],
    ["piano", 8, 6],
    ["desk", 1, 6],
    ["lamp", 4, 6.2],
    ["sink", 2.5, 2.4],
    ["toilet", 2.5, 4.6],
    ["chair", 5.2, 2.4],
    ["chair", 5.2, 4.6],
  ];
  const boxes: Record<string, ObjectBox[]> = {};
  spots.forEach(([category, x, y], i) => {
    const h = [0.3, 0.25, 0.4];
    m.box(x - h[0], y - h[1], 0, x + h[0], y + h[1], 2 * h[2]);
    (boxes[category] ??= []).push({
      centroid: [x, y, h[2]],
      axesLengths: [2 * h[0], 2 * h[1], 2 * h[2]],
      normalizedAxes: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      min: [x - h[0], y - h[1], 0],
      max: [x + h[0], y + h[1], 2 * h[2]],
      instance_id: 10 + i,
    });
  });
  const mesh = m.mesh();
  return {
    mesh: { positions: Array.from(mesh.positions), triangles: Array.from(mesh.triangles) },
    boxes,
  };
}

Deno.test("gen route_planning on ScanNet++ and ARKitScenes layouts: meshes from the raw folders", async () => {
  const root = await Deno.makeTempDir();
  try {
    const { mesh, boxes } = layoutRoom();
    const ply = writeMeshPly({
      positions: Float64Array.from(mesh.positions),
      triangles: Uint32Array.from(mesh.triangles),
    });
    const pp = join(root, "data", "0a1b2c3d4e", "scans"),
      ark = join(root, "Validation", "41069025");
    await Deno.mkdir(pp, { recursive: true });
    await Deno.mkdir(ark, { recursive: true });
    await Deno.writeFile(join(pp, "mesh_aligned_0.05.ply"), ply);
    await Deno.writeFile(join(ark, "41069025_3dod_mesh.ply"), ply);
    const counts = Object.fromEntries(Object.entries(boxes).map(([c, l]) => [c, l.length]));
    const entry = (dataset: string, name: string, split: string) => ({
      [name]: {
        scene_name: name,
        dataset,
        split,
        video_path: `${name}.mp4`,
        room_size: 63,
        room_center: [4.5, 3.5, 1.25],
        object_counts: counts,
        object_bboxes: boxes,
      },
    });
    // ARKitScenes without a split, as VSI-Bench's meta info: both folds are looked in.
    await Deno.writeTextFile(
      join(root, "scannetpp_metadata_val.json"),
      JSON.stringify(entry("scannetpp", "0a1b2c3d4e", "val")),
    );
    await Deno.writeTextFile(
      join(root, "arkitscenes_metadata_val.json"),
      JSON.stringify(entry("arkitscenes", "41069025", "")),
    );
    for (
      const [dataset, name] of [["scannetpp", "0a1b2c3d4e"], ["arkitscenes", "41069025"]] as const
    ) {
      const read = await readSceneMesh(root, { dataset, scene_name: name, split: "" });
      assertEquals([...read.triangles], mesh.triangles);
      assertEquals([...read.positions], [...Float32Array.from(mesh.positions)]);
    }
    const out = join(root, "q.jsonl");
    const io = capture();
    assertEquals(
      await main(
        [
          "gen",
          "--tasks",
          "route_planning",
          "--meta",
          root,
          "--scenes-root",
          root,
          "--out",
          out,
          "--per-scene",
          "20",
        ],
        io,
      ),
      0,
    );
    assertEquals(io.err, "");
    const rs = await records(out);
    const kinds = new Set(rs.map((r) => checkRouteRecord(r, boxes)));
    assertEquals(new Set(rs.map((r) => r.dataset)), new Set(["scannetpp", "arkitscenes"]));
    assert(kinds.has("turns:1") && kinds.has("back"), [...kinds].join());
    assert(
      rs.every((r) => !(r.anchors as Anchor[]).some((a) => a.category === "chair")),
      "chairs are not unique",
    );
    assertBalanced(rs);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
