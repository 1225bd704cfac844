/**
 * Rejects with `message` when `promise` has not settled within `ms`, so that one hung dependency
 * (a backend, a plugin's register) cannot hang everything waiting on it. The timer never outlives
 * the race.
 */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
