/**
 * A worker's capacity: `slots` jobs at once, and its GPUs by index. A job takes a slot and as many
 * GPUs as it asked for (lowest free indices, meeting its VRAM floor); the agent pauses its BullMQ
 * consumers while every slot is taken, so it does not hold jobs it cannot start.
 */
import type { GpuInfo } from './probe.ts';

export interface Grant {
  /** GPU indices for CUDA_VISIBLE_DEVICES. */
  readonly gpus: readonly number[];
  release(): void;
}

export class Capacity {
  private freeSlots: number;
  private readonly freeGpus: Set<number>;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly slots: number,
    private readonly gpus: readonly GpuInfo[],
    private readonly onChange: (full: boolean) => void = () => {},
  ) {
    this.freeSlots = slots;
    this.freeGpus = new Set(gpus.map((gpu) => gpu.index));
  }

  get full(): boolean {
    return this.freeSlots === 0;
  }

  get used(): number {
    return this.slots - this.freeSlots;
  }

  /** Waits for a slot and `need.gpus` GPUs (of `gpuType`, with `minVramGb` each); `signal` gives up waiting. */
  async acquire(need: { gpus: number; gpuType?: string | undefined; minVramGb?: number | undefined }, signal?: AbortSignal): Promise<Grant> {
    for (;;) {
      const gpus = this.pick(need.gpus, need.gpuType, need.minVramGb);
      if (this.freeSlots > 0 && gpus) {
        this.freeSlots -= 1;
        for (const index of gpus) this.freeGpus.delete(index);
        this.onChange(this.full);
        let released = false;
        return {
          gpus,
          release: () => {
            if (released) return;
            released = true;
            this.freeSlots += 1;
            for (const index of gpus) this.freeGpus.add(index);
            this.onChange(this.full);
            for (const wake of this.waiters.splice(0)) wake();
          },
        };
      }
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('gave up waiting for capacity');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  private pick(count: number, gpuType: string | undefined, minVramGb: number | undefined): number[] | null {
    if (count === 0) return [];
    const fits = this.gpus
      .filter(
        (gpu) =>
          this.freeGpus.has(gpu.index) &&
          (gpuType === undefined || gpu.gpuType === gpuType) &&
          (minVramGb === undefined || ((gpu.memoryTotalMb ?? 0) * 1024 * 1024) / 1e9 >= minVramGb),
      )
      .map((gpu) => gpu.index)
      .sort((a, b) => a - b);
    return fits.length >= count ? fits.slice(0, count) : null;
  }
}
