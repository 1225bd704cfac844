/**
 * Process-group helpers. A recipe runs as the leader of its own group (spawned with
 * `detached: true`, so its pid is the group id); everything it starts stays in that group unless it
 * deliberately leaves with setsid.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Sends `signal` to every process of the group. Never throws (it runs from timers): false when no
 * process got it, because the group is gone (ESRCH) or holds only processes we may not signal (EPERM).
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** True while `kill(-pgid, 0)` finds the group (zombies included). */
export function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM: the group exists but holds a process we may not signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The pids of the group that are still running, i.e. not zombies. A killed process whose parent has
 * already exited stays a zombie until init reaps it, which some container inits do only every few
 * seconds; it holds no memory, GPU or files, so it counts as gone. Off Linux (no /proc) any member
 * counts and the pids are unknown (`[-1]`).
 */
export function liveGroupMembers(pgid: number): number[] {
  if (!groupExists(pgid)) return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [-1];
  }
  const live: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // "pid (comm) state ppid pgrp ..."; comm may hold spaces and parentheses, so parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') live.push(Number(entry));
  }
  return live;
}
