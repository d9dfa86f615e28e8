/** A $connect that accepts every client and stores nothing: bench/specs/connect-noop.yaml. */
export async function handler(): Promise<{ statusCode: number }> {
  return { statusCode: 200 };
}
