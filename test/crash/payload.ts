/** The crash writer's payload size for a counter: it grows and shrinks so the file size keeps changing. */
export function payloadSize(counter: number): number {
  return (counter * 7919) % 200_000;
}
