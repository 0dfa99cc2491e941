/**
 * The WebGPU layer: adapter and device acquisition, errors that name the kernel, a pipeline
 * cache, tensors in storage buffers, and command batches that end in one readback.
 *
 * Kernels record into a {@link Batch}; nothing reaches the GPU until `batch.read(...)` or
 * `batch.submit()`, which submit once and map every requested result together.
 *
 * @module
 */

/**
 * Element type of a tensor in GPU memory (accumulation is always f32); "u32" holds integers
 * (token ids, positions), read back as float32 (exact below 2^24).
 */
export type DType = "f32" | "f16" | "u32";

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: DType): number {
  return dtype === "f16" ? 2 : 4;
}

/** A tensor in a GPU storage buffer: row-major, `shape` in elements. */
export interface GpuTensor {
  /** The storage buffer (its size is rounded up to 4 bytes). */
  readonly buffer: GPUBuffer;
  /** Shape, outermost first. */
  readonly shape: readonly number[];
  /** Element type in memory. */
  readonly dtype: DType;
}

/** No WebGPU adapter could be found, or a device could not be created from it. */
export class GpuUnavailableError extends Error {
  /** `reason` says what was missing. */
  constructor(reason: string) {
    super(
      `no WebGPU device: ${reason} (set DENO_WEBGPU_BACKEND=vulkan or gl; on Debian install ` +
        `mesa-vulkan-drivers for a CPU adapter)`,
    );
    this.name = "GpuUnavailableError";
  }
}

/** A kernel failed: shader compilation, validation or a bad argument. Names the kernel. */
export class KernelError extends Error {
  /** `kernel` is the kernel's name, as in the pipeline cache. */
  constructor(readonly kernel: string, detail: string) {
    super(`kernel ${kernel}: ${detail}`);
    this.name = "KernelError";
  }
}

/** Options of {@link acquireGpu}. */
export interface GpuOptions {
  /** Ask for an adapter with `shader-f16` and fail without one (default: use it when present). */
  requireF16?: boolean;
  /** Never enable `shader-f16`, even when present (to test the f32-only path). */
  disableF16?: boolean;
  /** The WebGPU entry point (default `navigator.gpu`); tests pass a fake one. */
  gpu?: GPU;
}

// Limits raised to the adapter's maximum: big activations and weights, wide workgroups.
const RAISED_LIMITS = [
  "maxStorageBufferBindingSize",
  "maxBufferSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
  "maxStorageBuffersPerShaderStage",
] as const;

/**
 * Finds an adapter and opens a device with the adapter's maximum buffer sizes and `shader-f16`
 * when available.
 *
 * @example
 * ```ts
 * const gpu = await acquireGpu();
 * if (gpu.limits.maxStorageBufferBindingSize < 1 << 27) throw new Error("small bindings");
 * gpu.destroy();
 * ```
 */
export async function acquireGpu(options: GpuOptions = {}): Promise<Gpu> {
  giveMesaARuntimeDir();
  const entry = options.gpu ?? (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (!entry) throw new GpuUnavailableError("navigator.gpu is missing in this runtime");
  const adapter = await entry.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) throw new GpuUnavailableError("requestAdapter() found no adapter");
  const hasF16 = adapter.features.has("shader-f16") && !options.disableF16;
  if (options.requireF16 && !hasF16) {
    throw new GpuUnavailableError(`adapter ${adapterName(adapter)} lacks shader-f16`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const k of RAISED_LIMITS) requiredLimits[k] = adapter.limits[k];
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({
      requiredFeatures: hasF16 ? ["shader-f16"] : [],
      requiredLimits,
    });
  } catch (e) {
    throw new GpuUnavailableError(`requestDevice failed: ${(e as Error).message}`);
  }
  const cpu = isCpuAdapter(adapter);
  // Mesa's GL llvmpipe (the fallback without Vulkan) is the only CPU adapter without f16.
  const glFallback = cpu && !adapter.features.has("shader-f16");
  return new Gpu(device, adapterName(adapter), hasF16, cpu, glFallback);
}

/**
 * Mesa's drivers print "XDG_RUNTIME_DIR is invalid or not set" on every adapter request
 * without one (containers, CI, cron). They read the variable when the driver loads, in this
 * process, so pointing it at a private folder first keeps stderr clean.
 */
function giveMesaARuntimeDir(): void {
  try {
    const current = Deno.env.get("XDG_RUNTIME_DIR");
    if (current && Deno.statSync(current).isDirectory) return;
    const user = Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? "user";
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/vlm3r-runtime-${user}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  } catch {
    // Without env or write permission Mesa only complains; nothing breaks.
  }
}

// Software rasterisers (Mesa llvmpipe/lavapipe, SwiftShader) run invocations as SIMD lanes on
// CPU cores, where every memory load costs far more than arithmetic: kernels pick larger
// register blocks there.
function isCpuAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return !!info.isFallbackAdapter || /llvmpipe|lavapipe|swiftshader/i.test(info.description);
}

function adapterName(adapter: GPUAdapter): string {
  const info = adapter.info;
  return info.description || info.device || info.vendor || "unknown adapter";
}

/** An open device with its pipeline cache. Create with {@link acquireGpu}. */
export class Gpu {
  /** The device's limits (raised to the adapter's maxima). */
  readonly limits: GPUSupportedLimits;
  readonly #pipelines = new Map<string, Promise<GPUComputePipeline>>();
  #lost = false;

  /**
   * Wraps an open device; `f16` says whether `shader-f16` is enabled, `cpu` whether the adapter
   * is a software one running on CPU cores, `slowCompiles` whether it is Mesa's GL llvmpipe,
   * Deno's fallback where Vulkan is missing, which takes minutes to compile each new shader
   * (Debian's mesa-vulkan-drivers gives Vulkan lavapipe instead: seconds).
   */
  constructor(
    readonly device: GPUDevice,
    readonly adapter: string,
    readonly f16: boolean,
    readonly cpu = false,
    readonly slowCompiles = false,
  ) {
    this.limits = device.limits;
    device.lost.then(() => (this.#lost = true));
    // Count the bytes of every buffer made through this device (kernels' temporaries too),
    // for the peak GPU memory the benchmarks report: WebGPU has no query of its own.
    const create = device.createBuffer.bind(device);
    device.createBuffer = (desc: GPUBufferDescriptor) => {
      const buffer = create(desc);
      const destroy = buffer.destroy.bind(buffer);
      let live = true;
      this.#bytes += desc.size;
      this.#peak = Math.max(this.#peak, this.#bytes);
      buffer.destroy = () => {
        if (live) this.#bytes -= desc.size;
        live = false;
        destroy();
      };
      return buffer;
    };
  }

  #bytes = 0;
  #peak = 0;

  /** Bytes of the buffers alive now, and the most alive at once since `resetPeak`. */
  get memory(): { current: number; peak: number } {
    return { current: this.#bytes, peak: this.#peak };
  }

  /** Starts a new peak from the bytes alive now. */
  resetPeak(): void {
    this.#peak = this.#bytes;
  }

  /**
   * The compute pipeline for `code` (entry point `main`), compiled once and cached by kernel
   * name and source. Compilation errors become a {@link KernelError} naming the kernel.
   */
  pipeline(kernel: string, code: string): Promise<GPUComputePipeline> {
    const key = `${kernel}\n${code}`;
    let p = this.#pipelines.get(key);
    if (!p) {
      p = this.#compile(kernel, code);
      this.#pipelines.set(key, p);
      p.catch(() => this.#pipelines.delete(key));
    }
    return p;
  }

  async #compile(kernel: string, code: string): Promise<GPUComputePipeline> {
    this.device.pushErrorScope("validation");
    const module = this.device.createShaderModule({ label: kernel, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    let pipeline: GPUComputePipeline | undefined;
    let failure: string | undefined;
    if (errors.length) {
      failure = errors.map((m) => `line ${m.lineNum}: ${m.message}`).join("; ");
    } else {
      try {
        pipeline = await this.device.createComputePipelineAsync({
          label: kernel,
          layout: "auto",
          compute: { module, entryPoint: "main" },
        });
      } catch (e) {
        failure = (e as Error).message;
      }
    }
    const scoped = await this.device.popErrorScope();
    if (!failure && scoped) failure = scoped.message;
    if (failure || !pipeline) throw new KernelError(kernel, `shader: ${failure ?? "no pipeline"}`);
    return pipeline;
  }

  /** Number of pipelines compiled so far (for tests of the cache). */
  get cachedPipelines(): number {
    return this.#pipelines.size;
  }

  /**
   * A persistent tensor holding `data` (converted to f16 when `dtype` is "f16").
   *
   * @example
   * ```ts
   * const gpu = await acquireGpu();
   * const t = gpu.tensor(new Float32Array([1, 2, 3]), [3]);
   * const [back] = await gpu.batch().read([t]);
   * if (back[2] !== 3) throw new Error();
   * gpu.destroy();
   * ```
   */
  tensor(
    data: Float32Array | Uint32Array,
    shape: readonly number[],
    dtype: DType = data instanceof Uint32Array ? "u32" : "f32",
  ): GpuTensor {
    checkShape(data.length, shape);
    if (dtype === "f16" && !this.f16) throw new KernelError("tensor", "device lacks shader-f16");
    if ((dtype === "u32") !== data instanceof Uint32Array) {
      throw new KernelError("tensor", `${dtype} tensor from a ${data.constructor.name}`);
    }
    const bytes = dtype === "f16"
      ? toF16Bytes(data as Float32Array)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { buffer: this.raw(bytes), shape: [...shape], dtype };
  }

  /**
   * A storage buffer holding `bytes` as they are (zero-padded to 4 bytes): packed quantised
   * weights, f16 scales. Kernels bind it as `array<u32>`.
   */
  raw(bytes: Uint8Array): GPUBuffer {
    if (bytes.byteLength > this.limits.maxBufferSize) {
      throw new KernelError(
        "tensor",
        `${bytes.byteLength} bytes exceed the ${this.limits.maxBufferSize}-byte buffer limit`,
      );
    }
    const buffer = this.device.createBuffer({
      size: Math.max(4, align4(bytes.byteLength)),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint8Array(buffer.getMappedRange()).set(bytes);
    buffer.unmap();
    return buffer;
  }

  /**
   * An uninitialised persistent tensor (freed by `destroy()` on its buffer); `uniform` also lets
   * kernels bind windows of it as uniform buffers.
   */
  empty(shape: readonly number[], dtype: DType = "f32", uniform = false): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const size = align4(n * dtypeSize(dtype));
    if (size > this.limits.maxStorageBufferBindingSize) {
      throw new KernelError(
        "tensor",
        `[${shape}] ${dtype} needs ${size} bytes, over the ${this.limits.maxStorageBufferBindingSize}-byte binding limit`,
      );
    }
    const buffer = this.device.createBuffer({
      size: Math.max(size, 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST |
        (uniform ? GPUBufferUsage.UNIFORM : 0),
    });
    return { buffer, shape: [...shape], dtype };
  }

  /**
   * A tensor that kernels do not bind, only copy into and read back: no binding-size limit
   * (up to `maxBufferSize`), for results assembled from several batches.
   */
  output(shape: readonly number[], dtype: DType = "f32"): GpuTensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const buffer = this.device.createBuffer({
      size: Math.max(4, align4(n * dtypeSize(dtype))),
      usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
    return { buffer, shape: [...shape], dtype };
  }

  /**
   * Writes `data` into `t` starting at element `at` (through the queue: it lands before any
   * batch submitted afterwards).
   */
  write(t: GpuTensor, data: Float32Array | Uint32Array, at = 0): void {
    const bytes = t.dtype === "f16"
      ? toF16Bytes(data as Float32Array)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const offset = at * dtypeSize(t.dtype);
    if (offset % 4 || offset + bytes.byteLength > t.buffer.size) {
      throw new KernelError(
        "write",
        `${bytes.byteLength} bytes at ${offset} do not fit [${t.shape}]`,
      );
    }
    const padded = bytes.byteLength % 4 ? new Uint8Array(align4(bytes.byteLength)) : bytes;
    if (padded !== bytes) padded.set(bytes);
    this.device.queue.writeBuffer(t.buffer, offset, padded as Uint8Array<ArrayBuffer>);
  }

  /** Writes raw `bytes` into `buffer` at byte `offset` (both multiples of 4), through the queue. */
  writeBytes(buffer: GPUBuffer, offset: number, bytes: Uint8Array): void {
    if (offset % 4 || bytes.byteLength % 4 || offset + bytes.byteLength > buffer.size) {
      throw new KernelError(
        "write",
        `${bytes.byteLength} bytes at ${offset} do not fit a ${buffer.size}-byte buffer`,
      );
    }
    this.device.queue.writeBuffer(buffer, offset, bytes as Uint8Array<ArrayBuffer>);
  }

  /**
   * Reads byte ranges of buffers back as they are stored (after all work submitted so far);
   * offsets and sizes are multiples of 4.
   */
  async readBytes(
    parts: readonly { buffer: GPUBuffer; offset: number; size: number }[],
  ): Promise<Uint8Array[]> {
    const encoder = this.device.createCommandEncoder({ label: "vlm3r readBytes" });
    const staging = parts.map((p) => {
      if (p.offset % 4 || p.size % 4 || p.offset + p.size > p.buffer.size) {
        throw new KernelError(
          "read",
          `${p.size} bytes at ${p.offset} of a ${p.buffer.size}-byte buffer`,
        );
      }
      const s = this.device.createBuffer({
        size: Math.max(4, p.size),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      if (p.size) encoder.copyBufferToBuffer(p.buffer, p.offset, s, 0, p.size);
      return s;
    });
    try {
      this.device.queue.submit([encoder.finish()]);
      await Promise.all(staging.map((s) => s.mapAsync(GPUMapMode.READ)));
      return staging.map((s, i) =>
        new Uint8Array(s.getMappedRange(0, Math.max(4, parts[i].size))).slice(0, parts[i].size)
      );
    } finally {
      for (const s of staging) s.destroy();
    }
  }

  /** A new command batch. */
  batch(): Batch {
    if (this.#lost) throw new GpuUnavailableError("the device was lost");
    return new Batch(this);
  }

  /** Releases the device. */
  destroy(): void {
    this.device.destroy();
  }
}

/** Uniform-block slots per arena buffer of a batch. */
const ARENA_SLOTS = 256;

interface PendingScope {
  kernel: string;
  error: Promise<GPUError | null>;
}

/**
 * Recorded GPU work: kernels dispatch into it; `read` submits once and maps all results
 * together. Tensors made with `alloc` live until the batch ends.
 */
export class Batch {
  readonly #encoder: GPUCommandEncoder;
  readonly #temps: GPUBuffer[] = [];
  readonly #arenas: { buffer: GPUBuffer; data: Uint8Array; used: number }[] = [];
  readonly #scopes: PendingScope[] = [];
  readonly #kernels: string[] = [];
  #done = false;

  /** Use {@link Gpu.batch}. */
  constructor(readonly gpu: Gpu) {
    this.#encoder = gpu.device.createCommandEncoder({ label: "vlm3r batch" });
  }

  /** A tensor that lives until the batch is read or submitted (`uniform`: see `Gpu.empty`). */
  alloc(shape: readonly number[], dtype: DType = "f32", uniform = false): GpuTensor {
    const t = this.gpu.empty(shape, dtype, uniform);
    this.#temps.push(t.buffer);
    return t;
  }

  /** Uploads `data` into a tensor that lives until the batch ends. */
  upload(
    data: Float32Array | Uint32Array,
    shape: readonly number[],
    dtype: DType = data instanceof Uint32Array ? "u32" : "f32",
  ): GpuTensor {
    const t = this.gpu.tensor(data, shape, dtype);
    this.#temps.push(t.buffer);
    return t;
  }

  /**
   * Records one compute dispatch of `kernel` with `bindings` (binding 0, 1, ...: whole buffers,
   * or `{buffer, offset, size}` windows) and then, when given, a uniform block of u32/f32 words
   * at the next binding.
   */
  dispatch(
    kernel: string,
    pipeline: GPUComputePipeline,
    bindings: readonly (GPUBuffer | GPUBufferBinding)[],
    uniforms: ArrayBuffer | null,
    groups: readonly [number, number?, number?],
  ): void {
    this.#check();
    const max = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = groups;
    if (x > max || y > max || z > max) {
      throw new KernelError(kernel, `workgroup grid ${x}x${y}x${z} exceeds ${max} per dimension`);
    }
    if (x === 0 || y === 0 || z === 0) return;
    const device = this.gpu.device;
    device.pushErrorScope("validation");
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({
      binding: i,
      resource: b instanceof GPUBuffer ? { buffer: b } : b,
    }));
    if (uniforms) entries.push({ binding: bindings.length, resource: this.#uniform(uniforms) });
    const group = device.createBindGroup({
      label: kernel,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    const pass = this.#encoder.beginComputePass({ label: kernel });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.#scopes.push({ kernel, error: device.popErrorScope() });
    this.#kernels.push(kernel);
  }

  // Uniform blocks go to slots of shared arenas, written once at submit: one buffer per 256
  // dispatches instead of one per dispatch (a decode step records hundreds).
  #uniform(data: ArrayBuffer): GPUBufferBinding {
    // The device's own limit (Gpu.limits may be narrowed by tests).
    const align = this.gpu.device.limits.minUniformBufferOffsetAlignment || 256;
    const size = align16(data.byteLength);
    const slot = Math.ceil(size / align) * align;
    let arena = this.#arenas[this.#arenas.length - 1];
    if (!arena || arena.used + slot > arena.data.length) {
      const bytes = Math.max(ARENA_SLOTS * align, slot);
      arena = {
        buffer: this.gpu.device.createBuffer({
          size: bytes,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        data: new Uint8Array(bytes),
        used: 0,
      };
      this.#arenas.push(arena);
      this.#temps.push(arena.buffer);
    }
    arena.data.set(new Uint8Array(data), arena.used);
    const binding = { buffer: arena.buffer, offset: arena.used, size };
    arena.used += slot;
    return binding;
  }

  /** Records a buffer-to-buffer copy (byte offsets and size multiples of 4). */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.#check();
    this.#encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Records zeroing `size` bytes of `buffer` from `offset` (multiples of 4). */
  clear(buffer: GPUBuffer, offset = 0, size = buffer.size - offset): void {
    this.#check();
    this.#encoder.clearBuffer(buffer, offset, size);
  }

  /** Submits the work and waits for the GPU to finish it. */
  async submit(): Promise<void> {
    await this.read([]);
  }

  /**
   * Submits the work and reads `tensors` back in one go, as float32 (f16 is widened).
   * Ends the batch: temporary tensors are freed.
   */
  async read(tensors: readonly GpuTensor[]): Promise<Float32Array[]> {
    this.#check();
    this.#done = true;
    const device = this.gpu.device;
    const staging = tensors.map((t) => {
      const s = device.createBuffer({
        size: t.buffer.size,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
      this.#encoder.copyBufferToBuffer(t.buffer, 0, s, 0, t.buffer.size);
      return s;
    });
    try {
      device.pushErrorScope("validation");
      for (const a of this.#arenas) {
        device.queue.writeBuffer(a.buffer, 0, a.data as Uint8Array<ArrayBuffer>, 0, a.used);
      }
      device.queue.submit([this.#encoder.finish()]);
      const submitError = device.popErrorScope();
      for (const s of this.#scopes) {
        const e = await s.error;
        if (e) throw new KernelError(s.kernel, e.message);
      }
      const e = await submitError;
      if (e) throw new KernelError(this.#blame(e.message), e.message);
      await Promise.all(staging.map((s) => s.mapAsync(GPUMapMode.READ)));
      if (!staging.length) await device.queue.onSubmittedWorkDone();
      return tensors.map((t, i) => {
        const n = t.shape.reduce((a, b) => a * b, 1);
        const raw = staging[i].getMappedRange();
        const out = t.dtype === "f16"
          ? fromF16(new Uint16Array(raw, 0, n))
          : t.dtype === "u32"
          ? Float32Array.from(new Uint32Array(raw, 0, n))
          : new Float32Array(raw, 0, n).slice();
        return out;
      });
    } finally {
      for (const s of staging) s.destroy();
      for (const b of this.#temps) b.destroy();
    }
  }

  // Errors found at submit name the pass label; find the kernel among those recorded.
  #blame(message: string): string {
    return this.#kernels.find((k) => message.includes(`'${k}'`)) ?? "batch";
  }

  #check(): void {
    if (this.#done) throw new KernelError("batch", "this batch was already submitted");
  }
}

/** Number of elements of `shape`, checked against `length`. */
function checkShape(length: number, shape: readonly number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== length) {
    throw new KernelError("tensor", `shape [${shape}] has ${n} elements, data ${length}`);
  }
}

/** Elements of a tensor. *
 * @example
 * ```ts
 * if (numel({ shape: [2, 3, 4] }) !== 24) throw new Error();
 * ```
 */
export function numel(t: { readonly shape: readonly number[] }): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function align16(n: number): number {
  return Math.max(16, Math.ceil(n / 16) * 16);
}

/**
 * Rounds float32 values to IEEE half precision (round to nearest even), as bytes.
 *
 * @example
 * ```ts
 * const h = new Uint16Array(toF16Bytes(new Float32Array([1, -2, 65504])).buffer);
 * if (h[0] !== 0x3c00 || h[1] !== 0xc000 || h[2] !== 0x7bff) throw new Error();
 * ```
 */
export function toF16Bytes(data: Float32Array): Uint8Array {
  const out = new Uint16Array(data.length);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < data.length; i++) {
    f[0] = data[i];
    const x = u[0];
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    let mant = x & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 0x1f) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      let h = mant >>> shift;
      const rem = mant & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (h & 1))) h++;
      out[i] = sign | h;
    } else {
      let h = (e << 10) | (mant >>> 13);
      const rem = mant & 0x1fff;
      if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
      out[i] = sign | h;
    }
  }
  return new Uint8Array(out.buffer);
}

/**
 * Widens IEEE half-precision values to float32.
 *
 * @example
 * ```ts
 * const f = fromF16(new Uint16Array([0x3c00, 0xc000, 0x0001]));
 * if (f[0] !== 1 || f[1] !== -2 || f[2] !== 2 ** -24) throw new Error();
 * ```
 */
export function fromF16(data: Uint16Array): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const h = data[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) out[i] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) out[i] = mant ? NaN : sign * Infinity;
    else out[i] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** Rounds float32 values through f16 and back (what an f16 tensor holds). *
 * @example
 * ```ts
 * if (roundF16(new Float32Array([1 + 2 ** -12]))[0] !== 1) throw new Error();
 * ```
 */
export function roundF16(data: Float32Array): Float32Array {
  return fromF16(new Uint16Array(toF16Bytes(data).buffer));
}
