// The restricted torch zip-pickle reader: the fixture's three pickles, files written here by
// hand (both protocols, several storage types, views with offsets and strides, shared storages,
// nested containers, unknown classes), refused callables and broken archives.
import { assert, assertEquals } from "../../assert.ts";
import { sharedFixture } from "../../_support.ts";
import { DataError } from "../../../io/errors.ts";
import { PyObject, unpickle } from "../../../model/weights/pickle.ts";
import {
  checkpointArg,
  isTorchTensor,
  openTorch,
  type PickleOut,
  readTorch,
  tensorsOf,
  torchSource,
  writeTorchPickle,
} from "../../../model/weights/torch.ts";
import { writeZip } from "../../../model/weights/zip.ts";

const dir = sharedFixture("vlm3r-tiny");

async function withTemp(fn: (tmp: string) => Promise<void>) {
  const tmp = await Deno.makeTempDir();
  try {
    await fn(tmp);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

async function failure(p: Promise<unknown>): Promise<DataError> {
  const e = await p.then(() => undefined, (e) => e);
  assert(e instanceof DataError, `expected a DataError, got ${e}`);
  assertEquals(e.message.split("\n").length, 1, e.message);
  return e;
}

const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const bf16 = (xs: number[]) => {
  const u = new Uint32Array(new Float32Array(xs).buffer);
  return new Uint8Array(Uint16Array.from(u, (x) => x >>> 16).buffer);
};
const i64 = (xs: number[]) => new Uint8Array(BigInt64Array.from(xs.map(BigInt)).buffer);

Deno.test({ name: "the fixture's three pickles read", ignore: !dir }, async () => {
  const adapter = await openTorch(`${dir}/lora/adapter_model.bin`);
  const a = tensorsOf(adapter.root);
  assertEquals(a.size, 28);
  assertEquals([...a.values()].every((t) => t.storage.type === "BFloat16Storage"), true);
  assertEquals(a.get("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight")!.shape, [
    8,
    64,
  ]);
  assertEquals(tensorsOf((await openTorch(`${dir}/lora/non_lora_trainables.bin`)).root).size, 22);
  const pth = await openTorch(`${dir}/cut3r/cut3r_tiny.pth`);
  assert(pth.root instanceof Map);
  assertEquals([...pth.root.keys()], ["args", "model", "epoch"]);
  assertEquals(pth.root.get("epoch"), 0);
  const args = pth.root.get("args");
  assert(args instanceof PyObject && args.className === "omegaconf.dictconfig.DictConfig");
  const meta = JSON.parse(await Deno.readTextFile(`${dir}/golden/meta.json`));
  assertEquals(checkpointArg(pth.root, "model"), meta.cut3r_model_string);
  assertEquals(checkpointArg(pth.root, "pretrained"), "cut3r_tiny.pth");
  const sd = tensorsOf(pth.root.get("model")!);
  assertEquals(sd.size, 312);
  // The 100 pose_retriever tensors are views of one storage at different offsets.
  const pose = [...sd].filter(([k]) => k.startsWith("pose_retriever."));
  assertEquals(pose.length, 100);
  assertEquals(new Set(pose.map(([, t]) => t.storage.key)).size, 1);
  assertEquals(new Set(pose.map(([, t]) => t.offset)).size, 100);
  // Lazy per-tensor reads equal the eager read (each storage read once).
  const eager = await readTorch(`${dir}/cut3r/cut3r_tiny.pth`);
  const lazy = torchSource(pth, sd);
  for (const [k] of pose.slice(0, 10)) {
    assertEquals([...(await lazy.read(k)).data], [...eager.get(`model.${k}`)!.data], k);
  }
});

for (const protocol of [2, 4] as const) {
  Deno.test(`hand-written checkpoint, protocol ${protocol}: storages, views, containers, records`, async () => {
    await withTemp(async (tmp) => {
      const path = `${tmp}/ckpt.pth`;
      const storages = new Map([
        ["0", { dtype: "F32" as const, bytes: f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) }],
        ["1", { dtype: "BF16" as const, bytes: bf16([1.5, -2, 0.25]) }],
        ["2", { dtype: "I64" as const, bytes: i64([-3, 151646, 7]) }],
      ]);
      const value: PickleOut = new Map<string, PickleOut>([
        ["args", {
          object: "argparse.Namespace",
          state: new Map<string, PickleOut>([["model", "Net(width=3)"], ["lr", 0.5]]),
        }],
        [
          "model",
          new Map<string, PickleOut>([
            // offset 2, shape [2, 3]: 2..7
            ["a", { tensor: "0", offset: 2, shape: [2, 3] }],
            // the same storage, transposed (non-contiguous strides): [[0, 3], [1, 4], [2, 5]]
            ["a_t", { tensor: "0", offset: 0, shape: [3, 2], stride: [1, 3] }],
            // every other element from 1: 1, 3, 5, 7
            ["strided", { tensor: "0", offset: 1, shape: [4], stride: [2] }],
            ["b", { tensor: "1", shape: [3] }],
            ["ids", { tensor: "2", shape: [3] }],
          ]),
        ],
        ["nested", [
          1,
          { tuple: [true, null, "x", 2.5] },
          new Map<string, PickleOut>([["deep", [-70000, 2 ** 40]]]),
        ]],
        ["counter", { reduce: "collections.OrderedDict", args: [] }],
      ]);
      await writeTorchPickle(path, value, storages, { protocol });
      const f = await openTorch(path);
      const root = f.root as Map<string, unknown>;
      assertEquals(checkpointArg(f.root, "model"), "Net(width=3)");
      assertEquals(checkpointArg(f.root, "lr"), 0.5);
      const nested = root.get("nested") as unknown[];
      assertEquals(nested[0], 1);
      assertEquals([...(nested[1] as unknown[])], [true, null, "x", 2.5]);
      assert(Object.isFrozen(nested[1]), "a tuple is a frozen array");
      assertEquals((nested[2] as Map<string, unknown>).get("deep"), [-70000, 2 ** 40]);
      assert(root.get("counter") instanceof Map);
      const sd = tensorsOf(root.get("model") as never);
      const src = torchSource(f, sd);
      assertEquals([...(await src.read("a")).data], [2, 3, 4, 5, 6, 7]);
      assertEquals([...(await src.read("a_t")).data], [0, 3, 1, 4, 2, 5]);
      assertEquals([...(await src.read("a_t", { start: 1, count: 2 })).data], [1, 4, 2, 5]);
      assertEquals([...(await src.read("strided")).data], [1, 3, 5, 7]);
      assertEquals([...(await src.read("a", { start: 1, count: 1 })).data], [5, 6, 7]);
      const b = await src.read("b");
      assertEquals([b.stored, ...b.data], ["BF16", 1.5, -2, 0.25]);
      const ids = await src.readRaw("ids");
      assertEquals([ids.dtype, ...new BigInt64Array(ids.bytes.buffer)].map(String), [
        "I64",
        "-3",
        "151646",
        "7",
      ]);
      assertEquals([...(await src.read("ids")).data], [-3, 151646, 7]);
      assert(isTorchTensor(sd.get("a")) && sd.get("a")!.storage === sd.get("a_t")!.storage);
      const eager = await readTorch(path);
      assertEquals([...eager.get("model.a_t")!.data], [0, 3, 1, 4, 2, 5]);
    });
  });
}

Deno.test("a callable outside the allowlist is refused and nothing runs", () => {
  // pickle.dumps of an object whose __reduce__ is (os.system, ("touch PWNED",)), protocol 2.
  const enc = new TextEncoder();
  const cmd = enc.encode("touch PWNED");
  const bytes = new Uint8Array([
    0x80,
    2,
    0x63,
    ...enc.encode("os\nsystem\n"),
    0x58,
    cmd.length,
    0,
    0,
    0,
    ...cmd,
    0x85,
    0x52,
    0x2e,
  ]);
  let error: unknown;
  try {
    unpickle(bytes, { label: "evil.pkl" });
  } catch (e) {
    error = e;
  }
  assert(error instanceof DataError, String(error));
  assert(error.message.startsWith("evil.pkl: opcode at byte "), error.message);
  assert(error.message.includes("os.system (refused"), error.message);
  // builtins.eval and exec through STACK_GLOBAL (protocol 4) too.
  const g = (s: string) => [0x8c, s.length, ...enc.encode(s)];
  for (const name of ["eval", "exec", "getattr"]) {
    const p4 = new Uint8Array([
      0x80,
      4,
      ...g("builtins"),
      ...g(name),
      0x93,
      ...g("1"),
      0x85,
      0x52,
      0x2e,
    ]);
    let e2: unknown;
    try {
      unpickle(p4, { label: "p4.pkl" });
    } catch (e) {
      e2 = e;
    }
    assert(e2 instanceof DataError && e2.message.includes(`builtins.${name} (refused`), String(e2));
  }
  let exists = true;
  try {
    Deno.statSync("PWNED");
  } catch {
    exists = false;
  }
  assert(!exists);
});

Deno.test("broken archives: one line naming the file and the record", async () => {
  await withTemp(async (tmp) => {
    const good = `${tmp}/good.bin`;
    await writeTorchPickle(
      good,
      new Map([["w", { tensor: "0", shape: [4] }]]),
      new Map([["0", { dtype: "F32", bytes: f32([1, 2, 3, 4]) }]]),
    );
    const bytes = await Deno.readFile(good);

    await Deno.writeFile(`${tmp}/trunc.bin`, bytes.subarray(0, bytes.length - 40));
    const t = await failure(openTorch(`${tmp}/trunc.bin`));
    assert(
      t.message.startsWith(`${tmp}/trunc.bin: zip end record:`) && t.message.includes("truncated"),
      t.message,
    );

    await Deno.writeFile(`${tmp}/cut.bin`, bytes.subarray(0, 200));
    const c = await failure(openTorch(`${tmp}/cut.bin`));
    assert(c.message.startsWith(`${tmp}/cut.bin: `), c.message);

    await writeZip(`${tmp}/nopkl.bin`, [{
      name: "nopkl/version",
      bytes: new TextEncoder().encode("3\n"),
    }]);
    const n = await failure(openTorch(`${tmp}/nopkl.bin`));
    assertEquals(
      n.message,
      `${tmp}/nopkl.bin: data.pkl: expected a <root>/data.pkl record (torch.save zip format), got none`,
    );

    const pkl = (await (await import("../../../model/weights/zip.ts")).openZip(good)).read(
      "good/data.pkl",
    );
    await writeZip(`${tmp}/nostorage.bin`, [{ name: "nostorage/data.pkl", bytes: await pkl }]);
    const m = await failure(openTorch(`${tmp}/nostorage.bin`));
    assertEquals(
      m.message,
      `${tmp}/nostorage.bin: nostorage/data/0: expected the storage record data.pkl refers to, got none`,
    );

    await writeZip(`${tmp}/short.bin`, [
      { name: "short/data.pkl", bytes: await pkl },
      { name: "short/data/0", bytes: f32([1, 2, 3]) },
    ]);
    const s = await failure(openTorch(`${tmp}/short.bin`));
    assertEquals(
      s.message,
      `${tmp}/short.bin: short/data/0: expected 16 bytes (4 x FloatStorage), got 12`,
    );

    // A view reaching past its storage.
    await writeTorchPickle(
      `${tmp}/view.bin`,
      new Map([["w", { tensor: "0", offset: 2, shape: [4] }]]),
      new Map([["0", { dtype: "F32", bytes: f32([1, 2, 3, 4]) }]]),
    );
    const v = await failure(openTorch(`${tmp}/view.bin`));
    assert(v.message.includes("data/0: expected a view within its 4 elements"), v.message);

    // A truncated data.pkl.
    const full = await pkl;
    await writeZip(`${tmp}/halfpkl.bin`, [{
      name: "halfpkl/data.pkl",
      bytes: full.subarray(0, 20),
    }]);
    const h = await failure(openTorch(`${tmp}/halfpkl.bin`));
    assert(
      h.message.startsWith(`${tmp}/halfpkl.bin: halfpkl/data.pkl: opcode at byte`) &&
        h.message.includes("truncated"),
      h.message,
    );
  });
});
