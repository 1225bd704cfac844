/**
 * Capability probe: what a worker node can run. CPUs and memory come from the OS (capped by a
 * cgroup v2 limit when the worker runs in a container); GPUs come from `nvidia-smi`. A missing,
 * failing or hanging `nvidia-smi` makes a CPU-only worker with a warning, never an error: a node
 * without GPUs is still a useful worker.
 *
 * Units: `memoryTotalMb`/`memoryUsedMb` are what nvidia-smi reports, MiB. `minVramGb` and
 * `memoryGb` in job resources are decimal gigabytes (10^9 bytes), the unit GPUs and machines are
 * sold in, so a card sold as "80GB" (an H100 reports 81559 MiB = 85.5 GB) serves `minVramGb: 80`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import * as z from 'zod';

export const NVIDIA_SMI_QUERY = 'index,name,memory.total,memory.used,utilization.gpu,temperature.gpu';
export const NVIDIA_SMI_ARGS: readonly string[] = [`--query-gpu=${NVIDIA_SMI_QUERY}`, '--format=csv,noheader,nounits'];
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 1024 * 1024;
const BYTES_PER_MIB = 1024 * 1024;
const BYTES_PER_GB = 1e9;

export interface GpuInfo {
  /** nvidia-smi's index: the number CUDA_VISIBLE_DEVICES takes. */
  readonly index: number;
  /** The name as nvidia-smi reports it, e.g. "NVIDIA A100-SXM4-80GB". */
  readonly name: string;
  /** The normalised type used in resource classes, e.g. "a100" (see `gpuTypeOf`). */
  readonly gpuType: string;
  /** MiB; null when the driver reports [N/A] or [Not Supported]. */
  readonly memoryTotalMb: number | null;
  readonly memoryUsedMb: number | null;
  readonly utilizationPct: number | null;
  readonly temperatureC: number | null;
}

export interface Capabilities {
  readonly cpus: number;
  /** Decimal GB (10^9 bytes). */
  readonly memoryGb: number;
  readonly gpus: readonly GpuInfo[];
  /** Distinct GPU types, sorted. */
  readonly gpuTypes: readonly string[];
  /** The queues this node can consume: `cpu`, and with GPUs `gpu-any` and `gpu-<type>` per type. */
  readonly resourceClasses: readonly string[];
  /** ISO 8601. */
  readonly probedAt: string;
  /** What went wrong while probing (skipped rows, a failing nvidia-smi); empty when all was well. */
  readonly warnings: readonly string[];
  /** Recipes this node has but cannot run, with why (set by the worker from `RecipeSpec.unavailable`). */
  readonly unavailableRecipes?: Readonly<Record<string, string>>;
}

/** What a job asks for. Every field is optional; absent means "no requirement". */
export const resourcesSchema = z.object({
  gpus: z.number().int().min(0).max(64).optional(),
  gpuType: z.string().min(1).max(64).optional(),
  /** Decimal GB of memory each requested GPU must have. */
  minVramGb: z.number().positive().optional(),
  cpus: z.number().positive().optional(),
  /** Decimal GB of host memory. */
  memoryGb: z.number().positive().optional(),
});
export type Resources = z.infer<typeof resourcesSchema>;

export interface ProbeOptions {
  /** Path of the nvidia-smi executable; default: env ANVIL_NVIDIA_SMI, else `nvidia-smi` on PATH. */
  readonly nvidiaSmi?: string;
  /** How long nvidia-smi may take (a wedged driver can hang it); default 10 s. */
  readonly timeoutMs?: number;
}

export async function probeCapabilities(options: ProbeOptions = {}): Promise<Capabilities> {
  const nvidiaSmi = options.nvidiaSmi ?? process.env.ANVIL_NVIDIA_SMI ?? 'nvidia-smi';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const warnings: string[] = [];
  let gpus: GpuInfo[] = [];

  const run = await capture(nvidiaSmi, NVIDIA_SMI_ARGS, timeoutMs);
  if (run.kind === 'spawn-error') {
    warnings.push(`no GPUs: could not run ${nvidiaSmi} (${run.message}); this is a CPU-only worker`);
  } else if (run.kind === 'timeout') {
    warnings.push(`no GPUs: ${nvidiaSmi} did not answer within ${timeoutMs} ms; this is a CPU-only worker`);
  } else if (run.code !== 0) {
    const how = run.code === null ? `was killed by ${run.signal ?? 'a signal'}` : `exited with code ${run.code}`;
    const detail = firstLine(run.stderr) ?? firstLine(run.stdout);
    warnings.push(`no GPUs: ${nvidiaSmi} ${how}${detail ? `: ${detail}` : ''}; this is a CPU-only worker`);
  } else {
    const parsed = parseNvidiaSmiOutput(run.stdout);
    gpus = parsed.gpus;
    warnings.push(...parsed.warnings);
  }

  const gpuTypes = [...new Set(gpus.map((gpu) => gpu.gpuType))].sort();
  return {
    cpus: hostCpus(),
    memoryGb: hostMemoryGb(),
    gpus,
    gpuTypes,
    resourceClasses: resourceClassesFor(gpuTypes),
    probedAt: new Date().toISOString(),
    warnings,
  };
}

/**
 * Parses `nvidia-smi --query-gpu=<NVIDIA_SMI_QUERY> --format=csv,noheader,nounits`. Tolerates extra
 * spaces, blank lines and CRLF; `[N/A]`, `[Not Supported]` and other bracketed driver notes become
 * null. A row that is not six fields with an integer index and a name is skipped with a warning, as
 * is a second row for an index already seen.
 */
export function parseNvidiaSmiOutput(stdout: string): { gpus: GpuInfo[]; warnings: string[] } {
  const gpus: GpuInfo[] = [];
  const warnings: string[] = [];
  const seen = new Set<number>();
  const lines = stdout.split(/\r?\n/);
  lines.forEach((raw, lineIndex) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `nvidia-smi line ${lineIndex + 1}`;
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length !== 6) {
      warnings.push(`${where} skipped: expected 6 comma-separated fields, got ${fields.length}: ${clip(line)}`);
      return;
    }
    const [indexField, name, ...numeric] = fields as [string, string, string, string, string, string];
    if (!/^\d+$/.test(indexField)) {
      warnings.push(`${where} skipped: GPU index ${JSON.stringify(clip(indexField))} is not a whole number`);
      return;
    }
    if (name === '' || isDriverNote(name)) {
      warnings.push(`${where} skipped: no GPU name`);
      return;
    }
    const values: (number | null)[] = [];
    for (const field of numeric) {
      const value = parseNumericField(field);
      if (value === undefined) {
        warnings.push(`${where} skipped: ${JSON.stringify(clip(field))} is not a number: ${clip(line)}`);
        return;
      }
      values.push(value);
    }
    const index = Number(indexField);
    if (seen.has(index)) {
      warnings.push(`${where} skipped: GPU index ${index} appears twice`);
      return;
    }
    seen.add(index);
    const [memoryTotalMb, memoryUsedMb, utilizationPct, temperatureC] = values as [number | null, number | null, number | null, number | null];
    gpus.push({ index, name, gpuType: gpuTypeOf(name), memoryTotalMb, memoryUsedMb, utilizationPct, temperatureC });
  });
  gpus.sort((a, b) => a.index - b.index);
  return { gpus, warnings };
}

const VENDOR_WORDS = new Set(['nvidia', 'geforce', 'tesla', 'quadro', 'graphics', 'gpu']);

/**
 * The normalised GPU type of an nvidia-smi name (or of what a user wrote in `gpuType`):
 * "NVIDIA A100-SXM4-80GB" → "a100", "NVIDIA H100 80GB HBM3" → "h100", "NVIDIA GeForce RTX 4090" →
 * "rtx4090", "Tesla T4" → "t4", "NVIDIA L4" → "l4", "NVIDIA RTX A6000" → "a6000", "RTX 4070 Ti" →
 * "rtx4070ti"; a name matching no known family becomes a slug without the vendor words
 * ("NVIDIA TITAN RTX" → "titan-rtx"). Always `[a-z0-9-]+`, so it is safe in a queue name.
 */
export function gpuTypeOf(name: string): string {
  const tokens = name.toLowerCase().split(/[^a-z0-9]+/).filter((token) => token !== '');
  // Consumer and workstation cards: RTX/GTX/GT followed by a model number, possibly joined ("rtx4090").
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    let family: string | undefined;
    let model: string | undefined;
    let next = i + 1;
    const joined = /^(rtx|gtx|gt)(\d{3,4})$/.exec(token);
    if (joined) {
      family = joined[1];
      model = joined[2];
    } else if ((token === 'rtx' || token === 'gtx' || token === 'gt') && /^\d{3,4}$/.test(tokens[i + 1] ?? '')) {
      family = token;
      model = tokens[i + 1];
      next = i + 2;
    }
    if (family !== undefined && model !== undefined) {
      const suffix = tokens.slice(next).filter((word) => word === 'ti' || word === 'super' || word === 'ada').join('');
      return `${family}${model}${suffix}`;
    }
  }
  // Data-centre and workstation parts: a family letter (or GH/GB) and a model number: a100, h100,
  // h200, gh200, b200, l4, l40s, t4, v100, p100, k80, m60, a10g, a6000.
  for (const token of tokens) {
    if (/^(gh|gb|[abhlvtpkm])\d{1,4}[a-z]?$/.test(token)) return token;
  }
  const slug = tokens.filter((token) => !VENDOR_WORDS.has(token)).join('-');
  return slug === '' ? (tokens.join('-') || 'unknown') : slug;
}

/** The queue a job with these resources goes to: `gpu-<type>`, `gpu-any` or `cpu`. */
export function resourceClassFor(resources: Resources): string {
  if ((resources.gpus ?? 0) > 0) {
    return resources.gpuType !== undefined && resources.gpuType.trim() !== '' ? `gpu-${gpuTypeOf(resources.gpuType)}` : 'gpu-any';
  }
  return 'cpu';
}

/** The queues a node with these GPU types consumes. */
export function resourceClassesFor(gpuTypes: readonly string[]): string[] {
  if (gpuTypes.length === 0) return ['cpu'];
  return ['cpu', 'gpu-any', ...[...new Set(gpuTypes)].sort().map((type) => `gpu-${type}`)];
}

/**
 * Why a node cannot serve a job, one sentence per unmet requirement; empty when it can. Compares
 * capacity, not current load: how many jobs a node runs at once is the worker's concurrency.
 */
export function unmetRequirements(capabilities: Pick<Capabilities, 'cpus' | 'memoryGb' | 'gpus'>, resources: Resources): string[] {
  const reasons: string[] = [];
  if (resources.cpus !== undefined && capabilities.cpus < resources.cpus) {
    reasons.push(`needs ${resources.cpus} CPUs, the node has ${capabilities.cpus}`);
  }
  if (resources.memoryGb !== undefined && capabilities.memoryGb < resources.memoryGb) {
    reasons.push(`needs ${resources.memoryGb} GB of memory, the node has ${capabilities.memoryGb}`);
  }
  const wanted = resources.gpus ?? 0;
  if (wanted > 0) {
    const type = resources.gpuType !== undefined && resources.gpuType.trim() !== '' ? gpuTypeOf(resources.gpuType) : undefined;
    const minVramGb = resources.minVramGb;
    const fitting = capabilities.gpus.filter(
      (gpu) =>
        (type === undefined || gpu.gpuType === type) &&
        (minVramGb === undefined || (gpu.memoryTotalMb !== null && (gpu.memoryTotalMb * BYTES_PER_MIB) / BYTES_PER_GB >= minVramGb)),
    );
    if (fitting.length < wanted) {
      const what = [type === undefined ? 'GPUs' : `${type} GPUs`, minVramGb === undefined ? '' : ` with ≥ ${minVramGb} GB each`].join('');
      reasons.push(`needs ${wanted} ${what}, the node has ${fitting.length}`);
    }
  }
  return reasons;
}

/** True when the node has enough GPUs of the type with enough VRAM, CPUs and memory for the job. */
export function canServe(capabilities: Pick<Capabilities, 'cpus' | 'memoryGb' | 'gpus'>, resources: Resources): boolean {
  return unmetRequirements(capabilities, resources).length === 0;
}

function parseNumericField(field: string): number | null | undefined {
  if (isDriverNote(field)) return null;
  if (!/^-?\d+(\.\d+)?$/.test(field)) return undefined;
  return Number(field);
}

/** `[N/A]`, `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]`, bare `N/A`. */
function isDriverNote(field: string): boolean {
  return /^\[.*\]$/.test(field) || /^n\/a$/i.test(field);
}

function clip(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function firstLine(text: string): string | undefined {
  const line = text.split(/\r?\n/).find((candidate) => candidate.trim() !== '');
  return line === undefined ? undefined : clip(line.trim(), 300);
}

function hostCpus(): number {
  let cpus = os.availableParallelism();
  const quota = readCgroupFile('cpu.max');
  const match = quota === undefined ? null : /^(\d+)\s+(\d+)$/.exec(quota);
  if (match) {
    const limit = Number(match[1]) / Number(match[2]);
    if (limit > 0) cpus = Math.min(cpus, Math.round(limit * 100) / 100);
  }
  return cpus;
}

function hostMemoryGb(): number {
  let bytes = os.totalmem();
  const limit = readCgroupFile('memory.max');
  if (limit !== undefined && /^\d+$/.test(limit)) bytes = Math.min(bytes, Number(limit));
  return Math.floor((bytes / BYTES_PER_GB) * 100) / 100;
}

/** cgroup v2 limit files as a containerised process sees them at the root of its cgroup namespace. */
function readCgroupFile(name: string): string | undefined {
  try {
    return readFileSync(`/sys/fs/cgroup/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

type Capture =
  | { kind: 'spawn-error'; message: string }
  | { kind: 'timeout' }
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/**
 * Runs a short command in its own process group and collects its output. On timeout the whole
 * group is SIGKILLed and the answer does not wait for pipes a stray grandchild might hold open.
 */
function capture(command: string, args: readonly string[], timeoutMs: number): Promise<Capture> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Capture): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let size = 0;
    const child = spawn(command, [...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      if (size >= MAX_OUTPUT_BYTES) return;
      into.push(chunk);
      size += chunk.length;
    };
    child.stdout.on('data', collect(stdout));
    child.stderr.on('data', collect(stderr));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ kind: 'timeout' });
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish({ kind: 'spawn-error', message: error.code ?? error.message });
    });
    child.on('close', (code, signal) => {
      finish({
        kind: 'exited',
        code,
        signal,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      });
    });
  });
}
