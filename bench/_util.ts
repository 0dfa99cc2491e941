/**
 * What the benchmark scripts share: wall-clock timing, and running a `vlm3r` command in its
 * own process while tracking its peak memory.
 *
 * @module
 */

/** Runs `fn` and returns its result with the wall time in seconds. */
export async function time<T>(fn: () => Promise<T> | T): Promise<[T, number]> {
  const t0 = performance.now();
  const r = await fn();
  return [r, (performance.now() - t0) / 1000];
}

/** Peak resident memory (VmHWM) of a process, from /proc (Deno opens it only with -A). */
export function peakRssMb(pid: number): number | undefined {
  try {
    const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/VmHWM:\s+(\d+) kB/);
    return m ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Runs `vlm3r <args>` (cli/main.ts under `deno run -A`; `cli` names another checkout's, to
 * compare versions) and returns its wall time and peak RSS (the deno process; children such as
 * ffmpeg not included). Throws with its stderr on failure.
 */
export async function runCli(
  args: string[],
  cli = new URL("../cli/main.ts", import.meta.url).pathname,
): Promise<{ seconds: number; peakMb?: number }> {
  let peakMb: number | undefined;
  const [res, seconds] = await time(async () => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, ...args],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // VmHWM only grows: the last reading before exit is the peak.
    const poll = setInterval(() => (peakMb = peakRssMb(child.pid) ?? peakMb), 50);
    try {
      return await child.output();
    } finally {
      clearInterval(poll);
    }
  });
  if (!res.success) throw new Error(new TextDecoder().decode(res.stderr));
  return { seconds, peakMb };
}
