// Ctrl-C and leftovers: an interrupted `synth` or `meta` removes its temporary folders and exits
// 130 with the earlier output intact; a later run removes what a killed one left behind. The
// commands run as real processes, held mid-run by a FIFO (meta) or a stalled ffmpeg (synth).
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { synthScene, writeSynthScene } from "../../scene/synth/mod.ts";
import { DEFAULT_LABELS } from "../../scene/labels.ts";
import { runMeta } from "../../scene/meta_run.ts";
import { loadMeta } from "./_fixtures.ts";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const root = await Deno.makeTempDir({ prefix: "vlm3r-interrupt-" });
const hasMkfifo = new Deno.Command("sh", { args: ["-c", "command -v mkfifo"], stdout: "null" })
  .outputSync().success;

/** Every path under `dir` (relative, sorted). */
async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    out.push(rel);
    if (e.isDirectory) out.push(...await tree(dir, rel));
  }
  return out.sort();
}

/** Waits (polling) until `ready` holds; a guard against a hang, not a timing assertion. */
async function until(ready: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (await ready()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** Starts `vlm3r <args>` as its own process. */
function vlm3r(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", join(repo, "cli/main.ts"), ...args],
    cwd: repo,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test({
  name: "meta: Ctrl-C removes the staged frames, exits 130, and the earlier output stays",
  ignore: !hasMkfifo,
  fn: async () => {
    const raw = join(root, "meta-raw"), out = join(root, "meta-out");
    await writeSynthScene(synthScene("int", 0, { frames: 6, width: 48, height: 36 }), raw, {
      workers: 1,
      video: "none",
    });
    // The second scene's mesh is a FIFO with no writer: reading it waits for ever.
    await Deno.mkdir(join(raw, "scene0001_00"));
    const fifo = join(raw, "scene0001_00", "scene0001_00_vh_clean_2.ply");
    assert((await new Deno.Command("mkfifo", { args: [fifo] }).output()).success);
    await runMeta({
      dataset: "scannet",
      root: raw,
      out,
      split: "val",
      scenes: ["scene0000_00"],
      labels: DEFAULT_LABELS.scannet,
      frames: 4,
      seed: "0",
      workers: 1,
      format: "json",
      strict: false,
    });
    const before = await tree(out);
    const metaBefore = await loadMeta(out, "scannet");

    const child = vlm3r([
      "meta",
      "--dataset",
      "scannet",
      "--root",
      raw,
      "--out",
      out,
      "--frames",
      "3",
      "--workers",
      "1",
    ]);
    // The first scene's frames are staged; the run then waits on the FIFO.
    await until(async () => {
      for await (const e of Deno.readDir(out)) {
        if (!e.name.startsWith(".meta-scannet-val.tmp-")) continue;
        const staged = join(out, e.name, "depth", "scene0000_00");
        const n = await Array.fromAsync(Deno.readDir(staged)).catch(() => []);
        if (n.length === 3) return true;
      }
      return false;
    }, "the staged frames");
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 130, err);
    assert(err.includes("vlm3r meta: interrupted"), err);
    assertEquals(await tree(out), before);
    assertEquals(await loadMeta(out, "scannet"), metaBefore);
  },
});

Deno.test("synth: Ctrl-C removes the scene being built and exits 130", async () => {
  const out = join(root, "synth-out"), bin = join(root, "bin"), mark = join(root, "ffmpeg.pid");
  // An ffmpeg that never finishes: synth is held with its scene folder half built.
  await Deno.mkdir(bin);
  await Deno.writeTextFile(join(bin, "ffmpeg"), `#!/bin/sh\necho $$ > "${mark}"\nexec sleep 60\n`);
  await Deno.chmod(join(bin, "ffmpeg"), 0o755);
  const child = vlm3r(
    [
      "synth",
      "--out",
      out,
      "--frames",
      "2",
      "--width",
      "32",
      "--height",
      "24",
      "--workers",
      "1",
      "--video",
      "ffmpeg",
    ],
    { PATH: `${bin}:${Deno.env.get("PATH") ?? ""}` },
  );
  let ffmpegPid = 0;
  try {
    await until(async () => {
      ffmpegPid = Number((await Deno.readTextFile(mark).catch(() => "")).trim());
      return ffmpegPid > 0;
    }, "ffmpeg to start");
    const during = await tree(out);
    assert(during.some((f) => /^\.scene0000_00\.tmp-\d+-\d+$/.test(f)), during.join());
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    const err = new TextDecoder().decode(stderr);
    assertEquals(code, 130, err);
    assert(err.includes("vlm3r synth: interrupted"), err);
    assertEquals(await tree(out), []);
  } finally {
    if (ffmpegPid > 0) {
      try {
        Deno.kill(ffmpegPid, "SIGKILL");
      } catch { /* already gone */ }
    }
  }
});

Deno.test("synth: a rerun removes the scene's folders a killed run left, and only those", async () => {
  const out = join(root, "synth-leftovers");
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const stale = `.scene0000_00.tmp-${dead.pid}-0`;
  const other = `.scene0007_00.tmp-${dead.pid}-0`; // a scene this run does not write
  const own = `.scene0000_00.tmp-${Deno.pid}-99`; // this process's: still at work
  for (const d of [stale, other, own]) {
    await Deno.mkdir(join(out, d, "frames"), { recursive: true });
  }
  const report = await writeSynthScene(
    synthScene("int", 0, { frames: 1, width: 16, height: 16 }),
    out,
    {
      workers: 1,
      video: "none",
    },
  );
  assertEquals(report.removedTemps, [join(out, stale)]);
  const top = (await tree(out)).filter((f) => !f.includes("/"));
  assertEquals(top, [own, other, "scene0000_00"].sort());
});

Deno.test("interrupt: cleanup", async () => {
  await Deno.remove(root, { recursive: true });
});
