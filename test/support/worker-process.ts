/** `anvil worker` as a real child process, for cluster tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { anvilBin, childEnv, exitOf, repoRoot, track, type EnvPatch, type ExitStatus } from './anvil-process.ts';

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<ExitStatus>;
  stderr(): string;
  /** SIGTERM (checkpoint and hand jobs back), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<ExitStatus>;
  /** kill -9: no checkpoint, no goodbye; the control plane finds out when the lease runs out. */
  kill(): Promise<ExitStatus>;
}

const servingLine = /Anvil worker (\S+) serving/;

export async function startWorker(options: { server: string; token: string; name: string; env?: EnvPatch; slots?: number; args?: readonly string[] }): Promise<WorkerProcess> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'anvil-worker-'));
  const args = ['worker', '--server', options.server, '--name', options.name, '--slots', String(options.slots ?? 1), '--home', home, ...(options.args ?? [])];
  const child = spawn(process.execPath, [anvilBin, ...args], {
    cwd: repoRoot,
    env: childEnv({ ANVIL_WORKER_TOKEN: options.token, ...options.env }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  track(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = exitOf(child);
  void exited.then(() => rmSync(home, { recursive: true, force: true }));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${options.name} did not start within 30 s:\n${stderr}`)), 30_000);
    const onData = () => {
      if (servingLine.test(stderr)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker ${options.name} exited (${code ?? signal}) before serving:\n${stderr}`));
    });
  });
  const stop = async (timeoutMs = 20_000): Promise<ExitStatus> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const status = await exited;
    clearTimeout(timer);
    return status;
  };
  return {
    name: options.name,
    child,
    pid: child.pid as number,
    exited,
    stderr: () => stderr,
    stop,
    async kill() {
      child.kill('SIGKILL');
      return exited;
    },
  };
}
