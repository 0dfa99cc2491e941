import { assert, assertEquals } from "../assert.ts";
import { cameraPoseFromAngles } from "../../geometry/pose.ts";
import type { Vec3 } from "../../geometry/vec.ts";
import { movementDirection } from "../../qa/camera_movement.ts";
import { npRound } from "../../qa/rounding.ts";
import type { QaRecord } from "../../qa/types.ts";
import { answerText, type Placed, poseRows, questionsOf, sceneOf, type Shot } from "./builders.ts";

/**
 * A camera 1.5 m high that walks 2 m forward along +y facing +y (frames 0-20, 0.1 m per
 * frame), turns left in place to face -x (frames 21-25), then walks along -x (frames 26-39,
 * 0.13 m per frame).
 */
function walk(): { shots: Shot[]; eye: Vec3[]; yaw: number[] } {
  const eye: Vec3[] = [], yaw: number[] = [];
  for (let k = 0; k < 40; k++) {
    if (k <= 20) eye.push([0, 0.1 * k, 1.5]), yaw.push(Math.PI / 2);
    else if (k <= 25) eye.push([0, 2, 1.5]), yaw.push(Math.PI / 2 + (Math.PI / 2) * (k - 20) / 5);
    else eye.push([-0.13 * (k - 25), 2, 1.5]), yaw.push(Math.PI);
  }
  return { shots: eye.map((e, k) => ({ eye: e, yaw: yaw[k] })), eye, yaw };
}

/** "frame k of N" and "frame k" numbers in a question, in order. */
function frameNumbers(q: string): number[] {
  return [...q.matchAll(/frame (\d+)/g)].map((m) => Number(m[1]));
}

Deno.test("camera displacement: a camera that moves 2 m forward then turns", async () => {
  const { shots, eye } = walk();
  const scene = sceneOf([], { shots });
  const rs = await questionsOf(scene, ["camera_displacement"], {
    caps: { camera_displacement: 1000 },
  });
  assert(rs.length > 20, `${rs.length} questions`);
  for (const r of rs) {
    const [i, j] = frameNumbers(r.question).map((k) => k - 1);
    assert(r.question.endsWith(` and frame ${j + 1} of 40?`), r.question);
    assertEquals(r.frame_indices, [i * 10, j * 10], "frame_id of the frames named");
    assert(j - i >= 5 && j - i <= 30, `gap ${j - i}`);
    const d = Math.hypot(eye[j][0] - eye[i][0], eye[j][1] - eye[i][1], eye[j][2] - eye[i][2]);
    assert(d >= 0.2 && d <= 10);
    assertEquals(r.ground_truth, npRound(d, 1), `${r.question} ${d}`);
    assertEquals(r.options, null);
  }
  // Frames 21 to 25 only turn: no pair among them moves the camera (-R^T t would: it is not
  // the camera centre).
  const turning = sceneOf([], { shots: shots.slice(20, 26).concat(shots.slice(20, 26)) });
  assertEquals(await questionsOf(turning, ["camera_displacement"]), []);
  // Fewer than six frames with a valid pose: nothing.
  const few = shots.slice(0, 8).map((s, k) => (k < 3 ? { ...s, pose: [[NaN]] } : s));
  assertEquals(await questionsOf(sceneOf([], { shots: few }), ["camera_displacement"]), []);
});

Deno.test("camera positions are the translation of camera-to-world (DECISIONS 1)", async () => {
  // Poses turned differently at each frame: -R^T t differs from t, so only the convention
  // of the spec gives these answers.
  const shots: Shot[] = [];
  for (let k = 0; k < 12; k++) shots.push({ eye: [k * 0.4, 1 + (k % 3) * 0.2, 1.5], yaw: k * 0.7 });
  const rs = await questionsOf(sceneOf([], { shots }), ["camera_displacement"], {
    caps: { camera_displacement: 100 },
  });
  assert(rs.length >= 5);
  for (const r of rs) {
    const [i, j] = frameNumbers(r.question).map((k) => k - 1);
    const t = (k: number) => shots[k].eye;
    const d = Math.hypot(t(j)[0] - t(i)[0], t(j)[1] - t(i)[1], t(j)[2] - t(i)[2]);
    assertEquals(r.ground_truth, npRound(d, 1));
    const wrong = (k: number) => {
      const m = cameraPoseFromAngles(shots[k].eye, shots[k].yaw, 0, 0);
      return [0, 1, 2].map((c) => -(m[c] * m[3] + m[4 + c] * m[7] + m[8 + c] * m[11]));
    };
    const w = Math.hypot(...[0, 1, 2].map((c) => wrong(j)[c] - wrong(i)[c]));
    if (Math.abs(w - d) > 0.2) assert(npRound(w, 1) !== r.ground_truth);
  }
});

Deno.test("camera movement direction relative to the starting orientation", async () => {
  const { shots, eye, yaw } = walk();
  const pose = (k: number) => cameraPoseFromAngles(eye[k], yaw[k], 0, 0);
  assertEquals(movementDirection(pose(0), pose(20), 1), "Forward");
  assertEquals(movementDirection(pose(20), pose(0), 1), "Backward");
  assertEquals(movementDirection(pose(26), pose(39), 1), "Forward"); // after the turn
  assertEquals(movementDirection(pose(10), pose(39), 1), "Left"); // 1 m forward, 1.82 m left
  assertEquals(movementDirection(pose(0), pose(8), 1), undefined); // 0.8 m < 1 m
  assertEquals(movementDirection(pose(0), pose(8), 0.5), "Forward");
  const scene = sceneOf([], { shots });
  for (
    const [task, k, tau] of [["camera_movement_direction_v1", 4, 1], [
      "camera_movement_direction_v3",
      2,
      0.5,
    ]] as const
  ) {
    const rs = await questionsOf(scene, [task], { caps: { [task]: 60 } });
    assertEquals(rs.length, 60);
    for (const r of rs) {
      assertEquals(r.question_type, "camera_movement_direction");
      const [i, j] = frameNumbers(r.question).map((n) => n - 1);
      // Independent: the displacement along the start heading and to its right.
      const d = [eye[j][0] - eye[i][0], eye[j][1] - eye[i][1]];
      const fwd = d[0] * Math.cos(yaw[i]) + d[1] * Math.sin(yaw[i]);
      const right = d[0] * Math.sin(yaw[i]) - d[1] * Math.cos(yaw[i]);
      const useFwd = Math.abs(fwd) > tau &&
        (Math.abs(fwd) >= Math.abs(right) || Math.abs(right) <= tau);
      const want = useFwd ? (fwd > 0 ? "Forward" : "Backward") : (right > 0 ? "Right" : "Left");
      assertEquals(r.ground_truth, want, r.question);
      assertEquals(answerText(r), want);
      assertEquals((r.options as string[]).length, k);
      assertEquals(r.frame_indices, [i * 10, j * 10]);
      const names = (r.options as string[]).map((o) => o.slice(3));
      assert(
        r.question.endsWith(
          k === 4
            ? `${names[0]}, ${names[1]}, ${names[2]}, and ${names[3]}.`
            : `${names[0]} and ${names[1]}.`,
        ),
      );
      assertEquals(
        r.question_template,
        `VSTI_CAMERA_MOVEMENT_DIRECTION_TEMPLATE_V${k === 4 ? 1 : 3}`,
      );
      if (k === 4) assertEquals(r.start_frame_description, `frame ${i + 1}`);
    }
  }
});

/** A camera at the origin, 1.5 m high, facing +y, seeing the given instance ids. */
const facingY = (sees: number[]): Shot => ({ eye: [0, 0, 1.5], yaw: Math.PI / 2, sees });
const cubeAt = (category: string, y: number, x = 0, side = 1): Placed => ({
  category,
  center: [x, y, 1.5],
  size: [side, side, side],
});

Deno.test("camera-object distance: frame-unique objects between 0.2 and 10 m", async () => {
  const objects = [
    cubeAt("sofa", 3), // 1: nearest face 2.5 m ahead
    cubeAt("chair", 2, -3), // 2 and 3: two chairs
    cubeAt("chair", 2, 3),
    cubeAt("table", 12), // 4: 11.5 m, too far
  ];
  const shots = [facingY([1, 2, 4]), facingY([1, 2, 3]), facingY([])];
  const rs = await questionsOf(sceneOf(objects, { shots }), ["camera_obj_abs_dist"], {
    caps: { camera_obj_abs_dist: 100 },
    distance: "exact",
  });
  assertEquals(rs.map((r) => [r.question, r.ground_truth, r.frame_indices]), [
    [
      "What is the approximate distance (in meters) between the camera (or the person filming) and the nearest point of the sofa in frame 1 of 3?",
      2.5,
      [0],
    ],
    [
      "What is the approximate distance (in meters) between the camera (or the person filming) and the nearest point of the chair in frame 1 of 3?",
      npRound(Math.hypot(2.5, 1.5), 1),
      [0],
    ],
    [
      "What is the approximate distance (in meters) between the camera (or the person filming) and the nearest point of the sofa in frame 2 of 3?",
      2.5,
      [10],
    ],
  ]);
});

Deno.test("camera-object relative distance: nearest, 0.5 m minimum, 0.15 m ambiguity", async () => {
  const objects = [
    cubeAt("tv", 1.5), // 1: 1.0 m
    cubeAt("bed", 2.0, 2.5), // 2: 2.5 m (2 m to the side, 1.5 m ahead)
    cubeAt("sofa", 2.5), // 3: 2.0 m
    cubeAt("table", 3.0, -3), // 4: 3.54 m
    { category: "lamp", center: [0.35, 0.35, 1.5], size: [0.2, 0.2, 0.2] } as Placed, // 5: 0.35 m, too near
  ];
  const all = [1, 2, 3, 4, 5];
  const ask = async (task: string, objs = objects) =>
    await questionsOf(sceneOf(objs, { shots: [facingY(all)] }), [task], { distance: "exact" });
  const [v1] = await ask("camera_obj_rel_dist_v1");
  assertEquals(v1.ground_truth, "tv");
  assertEquals(answerText(v1), "tv");
  const names = (v1.options as string[]).map((o) => o.slice(3));
  assertEquals([...names].sort(), ["bed", "sofa", "table", "tv"]);
  assertEquals(
    v1.question,
    `Measuring from the closest point of each object, which of these objects (${
      names.join(", ")
    }) is the closest to the camera in frame 1 of 1?`,
  );
  // The bed moved to 1.1 m (behind the camera: distances do not care): within 0.15 m of the
  // tv, never a distractor; v1 runs out.
  const near = objects.map((o) => (o.category === "bed" ? cubeAt("bed", -1.6) : o));
  assertEquals(await ask("camera_obj_rel_dist_v1", near), []);
  const [v2] = await ask("camera_obj_rel_dist_v2", near);
  assertEquals(v2.ground_truth, "tv");
  assertEquals([...(v2.options as string[]).map((o) => o.slice(3))].sort(), [
    "sofa",
    "table",
    "tv",
  ]);
  // v1 needs four frame-unique objects before measuring.
  const three = [1, 3, 4];
  assertEquals(
    await questionsOf(sceneOf(objects, { shots: [facingY(three)] }), ["camera_obj_rel_dist_v1"]),
    [],
  );
});

Deno.test("object-object position in the camera frame, 0.15 m gap required", async () => {
  const objects: Placed[] = [
    { category: "chair", center: [-1, 3, 1.5], size: [0.4, 0.4, 0.4] }, // 1: left
    { category: "table", center: [1, 3, 1.5], size: [0.4, 0.4, 0.4] }, // 2: right, same depth
    { category: "lamp", center: [-1, 5, 2.5], size: [0.4, 0.4, 0.4] }, // 3: behind the chair, higher
    { category: "box", center: [-0.7, 3.1, 1.5], size: [0.1, 0.1, 0.1] }, // 4: 0.05 m from the chair
  ];
  const scene = sceneOf(objects, { shots: [facingY([1, 2, 3, 4])] });
  const rel = async (task: string) =>
    Object.fromEntries(
      (await questionsOf(scene, [task], { caps: { [task]: 100 } })).map((r: QaRecord) => [
        r.question,
        r.ground_truth,
      ]),
    );
  const lr = await rel("obj_obj_relative_pos_lr");
  assertEquals(lr["In frame 1 of 1, relative to table, is chair to the [Left/Right]?"], "Left");
  assertEquals(lr["In frame 1 of 1, relative to table, is lamp to the [Left/Right]?"], undefined); // B: the later one
  assertEquals(lr["In frame 1 of 1, relative to lamp, is table to the [Left/Right]?"], "Right");
  assertEquals(lr["In frame 1 of 1, relative to box, is chair to the [Left/Right]?"], undefined); // 0.05 m gap
  const nf = await rel("obj_obj_relative_pos_nf");
  assertEquals(
    nf["In frame 1 of 1, relative to the camera, is chair [Near/Far] compared to lamp?"],
    "Near",
  );
  assertEquals(
    nf["In frame 1 of 1, relative to the camera, is chair [Near/Far] compared to table?"],
    undefined,
  );
  const ud = await rel("obj_obj_relative_pos_ud");
  assertEquals(ud["In frame 1 of 1, relative to lamp, is chair to the [Up/Down]?"], "Down");
  assertEquals(ud["In frame 1 of 1, relative to table, is chair to the [Up/Down]?"], undefined);
});

Deno.test("appearance order: first sightings at least 2 s apart", async () => {
  const objects = ["bed", "sofa", "table", "tv", "lamp"].map((c, i) => cubeAt(c, 3, 3 * i));
  // One frame a second (frame ids 24 apart at 24 fps): bed at 0 s, sofa 3 s, table 6 s,
  // tv 9 s, lamp 10 s (too close to the tv).
  const firstSeen: Record<number, number[]> = { 0: [1], 3: [2, 1], 6: [3], 9: [4], 10: [5, 4] };
  const shots: Shot[] = [];
  for (let k = 0; k < 12; k++) shots.push({ eye: [0, 0, 1.5], yaw: 0, sees: firstSeen[k] ?? [1] });
  const rs = await questionsOf(sceneOf(objects, { shots, frameStep: 24, fps: 24 }), [
    "obj_appearance_order",
  ]);
  assertEquals(rs.map((r) => r.ground_truth).sort(), [
    "bed, sofa, table, lamp",
    "bed, sofa, table, tv",
  ]);
  for (const r of rs) {
    assertEquals(answerText(r), r.ground_truth);
    const named = r.question.match(/video: (.*)\?$/)![1].split(", ");
    assertEquals([...named].sort(), [...(r.categories_involved as string[])].sort());
    assertEquals([...new Set((r.options as string[]).map((o) => o.slice(3)))].length, 4);
  }
});

Deno.test("frames without a valid pose are counted in N but never used", async () => {
  const { shots } = walk();
  const broken = shots.map((s, k) => (k % 2 === 1 ? { ...s, pose: poseRows([NaN, 0, 0], 0) } : s));
  const rs = await questionsOf(sceneOf([], { shots: broken }), [
    "camera_displacement",
    "camera_movement_direction",
  ], {
    caps: { camera_displacement: 50, camera_movement_direction_v1: 50 },
  });
  assert(rs.length > 10);
  for (const r of rs) {
    for (const k of frameNumbers(r.question)) assertEquals((k - 1) % 2, 0, r.question);
    assert(r.question.includes(" of 40"));
  }
});
