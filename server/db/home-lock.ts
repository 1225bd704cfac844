/**
 * The embedded home's owner lock: a file created exclusively (`wx`) holding the owner's pid, role
 * and identity. A pid alone is not an identity: after a crash the kernel may hand the dead owner's
 * pid to another process, which would then look like a live owner forever. So the lock also
 * records the process's start time (field 22 of /proc/<pid>/stat, in clock ticks since boot) and
 * the boot id; an owner counts as alive only if a process with that pid exists *and* started at
 * that moment of this boot. Where /proc is absent (macOS) only the pid is checked.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** Who opened PGlite: a long-running server, or a one-shot CLI command. */
export type EmbeddedRole = 'server' | 'command';

export interface LockOwner {
  pid: number;
  role: EmbeddedRole;
  /** Start time of `pid` in clock ticks since boot; absent where /proc is. */
  startTime?: number;
  /** /proc/sys/kernel/random/boot_id when the lock was taken. */
  bootId?: string;
}

/** A process's start time in clock ticks since boot, or undefined (no such process, or no /proc). */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const value = Number(fields[19]); // field 22 overall: starttime
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** What this process writes into a lock it takes. */
export function currentOwner(role: EmbeddedRole): LockOwner {
  const owner: LockOwner = { pid: process.pid, role };
  const startTime = processStartTime(process.pid);
  const boot = bootId();
  if (startTime !== undefined) owner.startTime = startTime;
  if (boot !== undefined) owner.bootId = boot;
  return owner;
}

export function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid === 'number' && (owner.role === 'server' || owner.role === 'command')) return owner as LockOwner;
  } catch {
    // Missing or half-written lock: treated as no owner by the caller.
  }
  return undefined;
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the process that wrote the lock still runs (not merely a process with its pid). */
export function ownerAlive(owner: LockOwner): boolean {
  if (!pidExists(owner.pid)) return false;
  const boot = bootId();
  if (owner.bootId !== undefined && boot !== undefined && owner.bootId !== boot) return false;
  if (owner.startTime === undefined) return true;
  const startTime = processStartTime(owner.pid);
  return startTime === undefined || startTime === owner.startTime;
}

/** Creates the lock for this process; false when it exists already. */
export function tryLock(lockPath: string, role: EmbeddedRole): boolean {
  try {
    const fd = openSync(lockPath, 'wx', 0o600);
    try {
      writeSync(fd, JSON.stringify(currentOwner(role)));
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}
