/**
 * Log formats: JSON lines for machines (piped, files), readable lines for a person at a terminal.
 * Written to real files through the real logger; the terminal case is `format: 'pretty'` (`auto`
 * picks it only when stderr is a TTY, which a test runner's stderr is not).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../server/config/load.ts';
import { createLogger } from '../../server/log.ts';
import { formatRecord } from '../../server/log/pretty.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'anvil-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function logTo(format: string | undefined): Promise<string> {
  const file = path.join(dir, `${format ?? 'default'}.log`);
  const env: Record<string, string> = { ANVIL_HOME: dir, ANVIL_LOG_FILE: file };
  if (format) env.ANVIL_LOG_FORMAT = format;
  const { config } = loadConfig({ env, cwd: dir });
  const log = createLogger(config);
  log.child({ plugin: 'jobs' }).info({ worker: 'local-vm', slots: 2, authorization: 'Bearer secret' }, 'worker registered');
  log.flush();
  for (let i = 0; i < 50 && !readFileSync(file, { encoding: 'utf8', flag: 'a+' }).includes('\n'); i++) await sleep(20);
  return readFileSync(file, 'utf8');
}

describe('log format', () => {
  it('a file gets JSON lines by default (auto), censored', async () => {
    const text = await logTo(undefined);
    const record = JSON.parse(text.trim()) as Record<string, unknown>;
    assert.equal(record.msg, 'worker registered');
    assert.equal(record.plugin, 'jobs');
    assert.equal(record.authorization, '***');
  });

  it('pretty: time, level, origin, message and fields on one readable line, still censored', async () => {
    const text = await logTo('pretty');
    assert.match(text, /^\d\d:\d\d:\d\d\.\d{3} INFO  jobs: worker registered worker=local-vm slots=2 authorization=\*\*\*\n$/);
  });

  it('an unknown format is refused naming the key', () => {
    assert.throws(() => loadConfig({ env: { ANVIL_HOME: dir, ANVIL_LOG_FORMAT: 'xml' }, cwd: dir }), /log\.format/);
  });

  it('errors keep their stack, indented under the line', () => {
    const line = JSON.stringify({ level: 50, time: Date.now(), msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at here' } });
    assert.equal(formatRecord(line, false).split('\n').slice(1).join('\n'), '    Error: boom\n        at here\n');
    assert.equal(formatRecord('not json', false), 'not json\n');
  });
});
