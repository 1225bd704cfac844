import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capUtf8, LineSplitter, type SplitLine } from '../../gpu-workers/lines.ts';
import {
  encodeMetricValue,
  formatRecipeMessage,
  MAX_LOG_BYTES,
  parseRecipeLine,
  recipeSpecSchema,
  type RecipeEvent,
} from '../../gpu-workers/protocol.ts';

const workDir = '/work/jobs/job-1';
const parse = (line: string): RecipeEvent | null => parseRecipeLine(line, { workDir });
const json = (value: unknown): string => JSON.stringify(value);
const sha = 'ab'.repeat(32);

describe('recipe protocol lines', () => {
  it('parses every message type', () => {
    assert.deepEqual(parse(json({ type: 'log', level: 'warn', message: 'low memory' })), { type: 'log', level: 'warn', message: 'low memory' });
    assert.deepEqual(parse(json({ type: 'metric', step: 3, name: 'loss', value: 0.5 })), { type: 'metric', step: 3, name: 'loss', value: 0.5 });
    assert.deepEqual(parse(json({ type: 'checkpoint', step: 7, path: 'ckpt/7.pt', state: { epoch: 2 } })), {
      type: 'checkpoint',
      step: 7,
      path: '/work/jobs/job-1/ckpt/7.pt',
      state: { epoch: 2 },
    });
    assert.deepEqual(parse(json({ type: 'checkpoint', step: 0, path: '/work/jobs/job-1/c.json' })), { type: 'checkpoint', step: 0, path: '/work/jobs/job-1/c.json' });
    assert.deepEqual(parse(json({ type: 'artifact', name: 'model', path: 'model.onnx', sha256: sha.toUpperCase(), size: 10, mediaType: 'application/onnx' })), {
      type: 'artifact',
      name: 'model',
      path: '/work/jobs/job-1/model.onnx',
      sha256: sha,
      size: 10,
      mediaType: 'application/onnx',
    });
    assert.deepEqual(parse(json({ type: 'result', value: { accuracy: 0.93 } })), { type: 'result', value: { accuracy: 0.93 } });
    assert.deepEqual(parse(json({ type: 'error', message: 'no such dataset', recoverable: false })), { type: 'error', message: 'no such dataset', recoverable: false });
  });

  it('ignores unknown keys (forward compatibility) and a trailing CR', () => {
    assert.deepEqual(parse(`${json({ type: 'metric', step: 1, name: 'acc', value: 1, wallTime: 12.5 })}\r`), { type: 'metric', step: 1, name: 'acc', value: 1 });
  });

  it('carries NaN and ±Infinity metric values, as strings or as Python writes them', () => {
    const value = (line: string): number => {
      const event = parse(line);
      assert.equal(event?.type, 'metric');
      return event.type === 'metric' ? event.value : 0;
    };
    assert.ok(Number.isNaN(value(json({ type: 'metric', step: 1, name: 'loss', value: 'NaN' }))));
    assert.equal(value(json({ type: 'metric', step: 1, name: 'loss', value: 'Infinity' })), Infinity);
    assert.equal(value(json({ type: 'metric', step: 1, name: 'loss', value: '-Infinity' })), -Infinity);
    // Python's json.dumps default output (bare tokens, not JSON):
    assert.ok(Number.isNaN(value('{"type": "metric", "step": 2, "name": "loss", "value": NaN}')));
    assert.equal(value('{"type": "metric", "step": 2, "name": "loss", "value": -Infinity}'), -Infinity);
    // ... without touching strings that merely contain the words.
    assert.deepEqual(parse('{"type": "log", "level": "info", "message": "loss is NaN, Infinity next", "x": NaN}'), {
      type: 'log',
      level: 'info',
      message: 'loss is NaN, Infinity next',
    });
    // Other strings are still not numbers.
    assert.equal(parse(json({ type: 'metric', step: 1, name: 'loss', value: 'nan' }))?.type, 'invalid');
  });

  it('encodes metric values so NaN survives JSON', () => {
    assert.equal(encodeMetricValue(Number.NaN), 'NaN');
    assert.equal(encodeMetricValue(-Infinity), '-Infinity');
    assert.equal(encodeMetricValue(2), 2);
    const line = formatRecipeMessage({ type: 'metric', step: 4, name: 'loss', value: Number.NaN });
    assert.equal(line, '{"type":"metric","step":4,"name":"loss","value":"NaN"}\n');
    const event = parse(line.trimEnd());
    assert.ok(event?.type === 'metric' && Number.isNaN(event.value));
  });

  it('turns anything that is not a known message into a stdout log line', () => {
    const stdout = (message: string) => ({ type: 'log', level: 'stdout', message });
    assert.deepEqual(parse('Epoch 1/10: loss=0.3'), stdout('Epoch 1/10: loss=0.3'));
    assert.deepEqual(parse('   indented print'), stdout('   indented print'));
    assert.deepEqual(parse('{not json'), stdout('{not json'));
    assert.deepEqual(parse('[1,2,3]'), stdout('[1,2,3]'));
    assert.deepEqual(parse('42'), stdout('42'));
    assert.deepEqual(parse('null'), stdout('null'));
    assert.deepEqual(parse(json({ kind: 'metric' })), stdout('{"kind":"metric"}'));
    assert.deepEqual(parse(json({ type: 'telemetry', gpu: 0 })), stdout('{"type":"telemetry","gpu":0}'));
    assert.deepEqual(parse(json({ type: 7 })), stdout('{"type":7}'));
    assert.deepEqual(parse(json({ type: 'toString' })), stdout('{"type":"toString"}'));
    assert.equal(parse(''), null);
    assert.equal(parse('  \t'), null);
  });

  it('caps a stdout line and a log message at 4 KiB, on a character boundary', () => {
    const long = parse('é'.repeat(5000));
    assert.equal(long?.type, 'log');
    if (long?.type !== 'log') return;
    assert.equal(long.truncated, true);
    assert.equal(Buffer.byteLength(long.message), MAX_LOG_BYTES);
    assert.ok(!long.message.includes('\uFFFD'));
    const logged = parse(json({ type: 'log', level: 'info', message: 'z'.repeat(10_000) }));
    assert.ok(logged?.type === 'log' && logged.truncated === true && logged.message.length === MAX_LOG_BYTES);
  });

  it('reports a known type that breaks its schema as invalid, with the schema message', () => {
    const invalid = (line: unknown, pattern: RegExp, messageType: string): void => {
      const event = parse(json(line));
      assert.equal(event?.type, 'invalid', json(line));
      if (event?.type !== 'invalid') return;
      assert.equal(event.messageType, messageType);
      assert.match(event.message, pattern);
      assert.ok(event.line.length <= MAX_LOG_BYTES && json(line).startsWith(event.line), 'the offending line, capped');
    };
    invalid({ type: 'log', level: 'loud', message: 'x' }, /level/, 'log');
    invalid({ type: 'log', level: 'info' }, /message/, 'log');
    invalid({ type: 'metric', step: -1, name: 'loss', value: 1 }, /step/, 'metric');
    invalid({ type: 'metric', step: 1.5, name: 'loss', value: 1 }, /step/, 'metric');
    invalid({ type: 'metric', step: 1, name: '', value: 1 }, /name/, 'metric');
    invalid({ type: 'metric', step: 1, name: 'loss' }, /value/, 'metric');
    invalid({ type: 'checkpoint', path: 'c.json' }, /step/, 'checkpoint');
    invalid({ type: 'checkpoint', step: 1, path: 'c.json', state: [1, 2] }, /state/, 'checkpoint');
    invalid({ type: 'checkpoint', step: 1, path: 'c.json', state: { blob: 'q'.repeat(70_000) } }, /at most 65536 bytes/, 'checkpoint');
    invalid({ type: 'checkpoint', step: 1, path: '../other-job/c.json' }, /not a file inside the work dir/, 'checkpoint');
    invalid({ type: 'checkpoint', step: 1, path: '/etc/passwd' }, /not a file inside the work dir/, 'checkpoint');
    invalid({ type: 'checkpoint', step: 1, path: '.' }, /not a file inside the work dir/, 'checkpoint');
    invalid({ type: 'artifact', name: 'm', path: 'm.bin', sha256: 'abc' }, /sha256 must be 64 hex digits/, 'artifact');
    invalid({ type: 'artifact', name: 'm', path: 'm.bin', sha256: sha, size: -1 }, /size/, 'artifact');
    invalid({ type: 'result', value: [1] }, /value/, 'result');
    invalid({ type: 'result' }, /value/, 'result');
    invalid({ type: 'error', message: 'boom' }, /recoverable/, 'error');
  });

  it('flags a line the runner cut at the length limit', () => {
    assert.deepEqual(parseRecipeLine('{"type":"log","level":"info","message":"yyy', { truncated: true, bytes: 2_000_000 }), {
      type: 'invalid',
      message: 'line (2000000 bytes) exceeds the 1048576-byte limit and was cut; write large data to a file and report it as an artifact',
      line: '{"type":"log","level":"info","message":"yyy',
    });
    assert.deepEqual(parseRecipeLine('xxxx', { truncated: true }), { type: 'log', level: 'stdout', message: 'xxxx', truncated: true });
  });
});

describe('the spec a recipe receives', () => {
  it('accepts a first attempt and a resumed one', () => {
    const base = { jobId: 'j', recipe: 'diagnostics.counter', params: { steps: 3 }, attempt: 1, workDir: '/w', resume: null };
    assert.equal(recipeSpecSchema.safeParse(base).success, true);
    const resumed = { ...base, attempt: 2, resume: { checkpoint: { step: 2, path: '/w/c.json', state: { count: 2 } } } };
    assert.deepEqual(recipeSpecSchema.parse(resumed), resumed);
  });

  it('refuses a bad one', () => {
    const base = { jobId: 'j', recipe: 'r', params: {}, attempt: 1, workDir: '/w', resume: null };
    for (const bad of [{ ...base, attempt: 0 }, { ...base, params: [] }, { ...base, resume: undefined }, { ...base, resume: { checkpoint: { step: -1, path: 'x' } } }, { ...base, jobId: '' }]) {
      assert.equal(recipeSpecSchema.safeParse(bad).success, false, json(bad));
    }
  });
});

describe('line splitting', () => {
  const split = (chunks: Buffer[], max = 64): SplitLine[] => {
    const lines: SplitLine[] = [];
    const splitter = new LineSplitter(max, (line) => lines.push(line));
    for (const chunk of chunks) splitter.push(chunk);
    splitter.end();
    return lines;
  };

  it('joins lines across chunks, including a UTF-8 character split between chunks', () => {
    const bytes = Buffer.from('héllo\r\nwörld\n\nlast', 'utf8');
    const chunks = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
    assert.deepEqual(
      split(chunks).map((line) => line.text),
      ['héllo', 'wörld', '', 'last'],
    );
  });

  it('keeps the first maxBytes of an over-long line and flags it', () => {
    const lines = split([Buffer.from('a'.repeat(50)), Buffer.from(`${'b'.repeat(100)}\nshort\n`)], 64);
    assert.deepEqual(
      lines.map((line) => [line.text.length, line.bytes, line.truncated]),
      [
        [64, 150, true],
        [5, 5, false],
      ],
    );
  });

  it('cuts on a character boundary', () => {
    assert.deepEqual(capUtf8('aé€😀', 4), { text: 'aé', truncated: true });
    assert.deepEqual(capUtf8('aé€😀', 6), { text: 'aé€', truncated: true });
    assert.deepEqual(capUtf8('aé€😀', 10), { text: 'aé€😀', truncated: false });
    const lines = split([Buffer.from(`${'é'.repeat(40)}\n`)], 63);
    assert.equal(lines[0]?.text, 'é'.repeat(31));
  });
});
