/** Milliseconds since `start` (from performance.now()), rounded to microseconds. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 1000) / 1000;
}
