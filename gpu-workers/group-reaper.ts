/**
 * Takes a recipe's process group down and says when it is gone. Stopping is SIGTERM to the group,
 * then SIGKILL once the grace period is over. Once the leader has exited (or SIGKILL was sent) the
 * group is polled until no member is left and the output pipes have closed — or a process that left
 * the group still holds them past a limit — and processes the kernel will not kill (stuck in a
 * driver) are given up on and reported as leftovers.
 */
import { performance } from 'node:perf_hooks';
import { liveGroupMembers, signalGroup } from './process-group.ts';

/** How often the group is looked at once the leader has exited. */
const POLL_MS = 25;
/** After SIGKILL, how long to wait for the kernel to take the group down before reporting leftovers. */
const AFTER_KILL_WAIT_MS = 5_000;
/** After the group is gone, how long a process that left the group (setsid) may keep our pipes open. */
const ESCAPED_PIPE_WAIT_MS = 1_000;

export interface ReapedGroup {
  /** Whether the leader has exited. */
  leaderExited(): boolean;
  /** Whether both output pipes have closed. */
  outputClosed(): boolean;
  /** A line for the recipe's log. */
  note(message: string): void;
  /** Called once the group is gone (or given up on); `leftovers` are pids that would not die. */
  gone(leftovers: number[]): void;
}

export class GroupReaper {
  private killTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private groupGoneAt: number | null = null;
  private sigkillAt: number | null = null;
  private done = false;

  constructor(
    private readonly pgid: number,
    private readonly graceMs: number,
    private readonly group: ReapedGroup,
  ) {}

  /** SIGTERM to the group now and SIGKILL after the grace period, with `reason` in the log. */
  stop(reason: string): void {
    this.group.note(`stopping (${reason}): SIGTERM to process group ${this.pgid}, SIGKILL in ${this.graceMs} ms if it has not exited`);
    signalGroup(this.pgid, 'SIGTERM');
    this.scheduleKill();
  }

  /** The leader exited: members it left behind are stopped too, and the group is watched until empty. */
  onLeaderExit(): void {
    if (this.killTimer === undefined) {
      const left = liveGroupMembers(this.pgid);
      if (left.length > 0) {
        this.group.note(`recipe exited; ${left.length} process(es) left in its group (${left.join(', ')}): SIGTERM, SIGKILL in ${this.graceMs} ms`);
        signalGroup(this.pgid, 'SIGTERM');
        this.scheduleKill();
      }
    }
    this.pollTimer ??= setInterval(() => this.check(), POLL_MS);
    this.check();
  }

  /** Looks whether the group is gone; called on every pipe close and exit, and by the poll. */
  check(): void {
    if (this.done) return;
    const now = performance.now();
    const killedLongAgo = this.sigkillAt !== null && now - this.sigkillAt > AFTER_KILL_WAIT_MS;
    if (!this.group.leaderExited()) {
      if (killedLongAgo) {
        const leftovers = liveGroupMembers(this.pgid);
        this.group.note(`the recipe did not exit ${AFTER_KILL_WAIT_MS} ms after SIGKILL (uninterruptible?); giving up on ${leftovers.join(', ')}`);
        this.finish(leftovers);
      }
      return;
    }
    const live = liveGroupMembers(this.pgid);
    if (live.length === 0) {
      this.groupGoneAt ??= now;
      if (this.group.outputClosed()) return this.finish([]);
      if (now - this.groupGoneAt > ESCAPED_PIPE_WAIT_MS) {
        this.group.note('the process group is gone but a process outside it still holds the output pipes; no longer reading them');
        this.finish([]);
      }
      return;
    }
    this.groupGoneAt = null;
    if (killedLongAgo) {
      this.group.note(`processes ${live.join(', ')} survived SIGKILL for ${AFTER_KILL_WAIT_MS} ms (uninterruptible?); giving up on them`);
      this.finish(live);
    }
  }

  /** Stops the timers without reporting (the run ended another way). */
  dispose(): void {
    this.done = true;
    clearTimeout(this.killTimer);
    clearInterval(this.pollTimer);
  }

  private scheduleKill(): void {
    if (this.killTimer !== undefined) return;
    this.killTimer = setTimeout(() => {
      const left = liveGroupMembers(this.pgid);
      if (left.length > 0) {
        this.group.note(`grace period of ${this.graceMs} ms over: SIGKILL to process group ${this.pgid} (${left.join(', ')})`);
        signalGroup(this.pgid, 'SIGKILL');
      }
      this.sigkillAt = performance.now();
      // Keep looking even if the leader never reports its exit (stuck in the kernel).
      this.pollTimer ??= setInterval(() => this.check(), POLL_MS);
      this.check();
    }, this.graceMs);
  }

  private finish(leftovers: number[]): void {
    if (this.done) return;
    this.dispose();
    this.group.gone(leftovers);
  }
}
