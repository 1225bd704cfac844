import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canServe,
  gpuTypeOf,
  parseNvidiaSmiOutput,
  probeCapabilities,
  resourceClassFor,
  unmetRequirements,
  type Capabilities,
  type Resources,
} from '../../gpu-workers/probe.ts';
import { nvidiaSmiFixture } from './helpers.ts';

// The nvidia-smi fixtures are SIMULATED inventories (see test/fixtures/nvidia-smi/README.md).
const probe = (name: string, timeoutMs?: number): Promise<Capabilities> =>
  probeCapabilities({ nvidiaSmi: nvidiaSmiFixture(name), ...(timeoutMs === undefined ? {} : { timeoutMs }) });

describe('capability probe (simulated nvidia-smi inventories)', () => {
  it('reads two A100 80GB cards', async () => {
    const caps = await probe('a100x2');
    assert.deepEqual(caps.warnings, []);
    assert.deepEqual(
      caps.gpus.map((gpu) => ({ ...gpu })),
      [
        { index: 0, name: 'NVIDIA A100-SXM4-80GB', gpuType: 'a100', memoryTotalMb: 81920, memoryUsedMb: 4, utilizationPct: 0, temperatureC: 31 },
        { index: 1, name: 'NVIDIA A100-SXM4-80GB', gpuType: 'a100', memoryTotalMb: 81920, memoryUsedMb: 40213, utilizationPct: 87, temperatureC: 58 },
      ],
    );
    assert.deepEqual(caps.gpuTypes, ['a100']);
    assert.deepEqual(caps.resourceClasses, ['cpu', 'gpu-any', 'gpu-a100']);
    assert.ok(caps.cpus >= 1);
    assert.ok(caps.memoryGb > 0);
    assert.ok(!Number.isNaN(Date.parse(caps.probedAt)));
  });

  it('reads one T4 through ragged spacing, CRLF and blank lines', async () => {
    const caps = await probe('t4x1');
    assert.deepEqual(caps.warnings, []);
    assert.equal(caps.gpus.length, 1);
    assert.deepEqual({ ...caps.gpus[0] }, { index: 0, name: 'Tesla T4', gpuType: 't4', memoryTotalMb: 15360, memoryUsedMb: 0, utilizationPct: 0, temperatureC: 41 });
    assert.deepEqual(caps.resourceClasses, ['cpu', 'gpu-any', 'gpu-t4']);
  });

  it('reads a mixed node: [N/A] becomes null, a garbage line is skipped with a warning', async () => {
    const caps = await probe('mixed');
    assert.deepEqual(
      caps.gpus.map((gpu) => [gpu.index, gpu.gpuType, gpu.memoryTotalMb, gpu.temperatureC]),
      [
        [0, 'h100', 81559, 34],
        [1, 'rtx4090', 24564, null],
      ],
    );
    assert.deepEqual(caps.gpuTypes, ['h100', 'rtx4090']);
    assert.deepEqual(caps.resourceClasses, ['cpu', 'gpu-any', 'gpu-h100', 'gpu-rtx4090']);
    assert.equal(caps.warnings.length, 1);
    assert.match(caps.warnings[0] ?? '', /line 4 skipped.*infoROM/);
  });

  it('falls back to CPU-only when nvidia-smi fails, is missing, or hangs', async () => {
    const failing = await probe('fails');
    assert.deepEqual(failing.gpus, []);
    assert.deepEqual(failing.resourceClasses, ['cpu']);
    assert.match(failing.warnings.join('\n'), /exited with code 9: NVIDIA-SMI has failed/);

    const missing = await probe('no-such-nvidia-smi');
    assert.deepEqual(missing.resourceClasses, ['cpu']);
    assert.match(missing.warnings.join('\n'), /could not run .*ENOENT.*CPU-only/);

    const started = performance.now();
    const hanging = await probe('hangs', 300);
    assert.ok(performance.now() - started < 2_000, 'the probe gives up at its timeout');
    assert.deepEqual(hanging.resourceClasses, ['cpu']);
    assert.match(hanging.warnings.join('\n'), /did not answer within 300 ms/);
  });

  it('takes the nvidia-smi path from ANVIL_NVIDIA_SMI when no option is given', async () => {
    const previous = process.env.ANVIL_NVIDIA_SMI;
    process.env.ANVIL_NVIDIA_SMI = nvidiaSmiFixture('t4x1');
    try {
      assert.deepEqual((await probeCapabilities()).gpuTypes, ['t4']);
    } finally {
      if (previous === undefined) delete process.env.ANVIL_NVIDIA_SMI;
      else process.env.ANVIL_NVIDIA_SMI = previous;
    }
  });
});

describe('nvidia-smi CSV parsing', () => {
  it('turns driver notes into null and skips malformed or duplicate rows with warnings', () => {
    const { gpus, warnings } = parseNvidiaSmiOutput(
      [
        '0, NVIDIA L4, 23034, [Not Supported], [N/A], 45',
        '',
        '   ',
        '1, NVIDIA L4, 23034, 10, 3',
        'x, NVIDIA L4, 23034, 10, 3, 40',
        '2, NVIDIA L4, lots, 10, 3, 40',
        '3, [N/A], 23034, 10, 3, 40',
        '0, NVIDIA L4, 23034, 10, 3, 40',
        '4, NVIDIA L4, 23034.5, 0, 0, N/A',
      ].join('\n'),
    );
    assert.deepEqual(
      gpus.map((gpu) => ({ ...gpu })),
      [
        { index: 0, name: 'NVIDIA L4', gpuType: 'l4', memoryTotalMb: 23034, memoryUsedMb: null, utilizationPct: null, temperatureC: 45 },
        { index: 4, name: 'NVIDIA L4', gpuType: 'l4', memoryTotalMb: 23034.5, memoryUsedMb: 0, utilizationPct: 0, temperatureC: null },
      ],
    );
    assert.equal(warnings.length, 5);
    assert.match(warnings[0] ?? '', /line 4 .*expected 6/);
    assert.match(warnings[1] ?? '', /line 5 .*index/);
    assert.match(warnings[2] ?? '', /line 6 .*"lots" is not a number/);
    assert.match(warnings[3] ?? '', /line 7 .*no GPU name/);
    assert.match(warnings[4] ?? '', /line 8 .*index 0 appears twice/);
  });

  it('returns nothing for empty output', () => {
    assert.deepEqual(parseNvidiaSmiOutput('\n\n'), { gpus: [], warnings: [] });
  });
});

describe('GPU type names', () => {
  const cases: [string, string][] = [
    ['NVIDIA A100-SXM4-80GB', 'a100'],
    ['NVIDIA A100-PCIE-40GB', 'a100'],
    ['NVIDIA H100 80GB HBM3', 'h100'],
    ['NVIDIA H100 PCIe', 'h100'],
    ['NVIDIA GeForce RTX 4090', 'rtx4090'],
    ['NVIDIA GeForce RTX 4070 Ti SUPER', 'rtx4070tisuper'],
    ['NVIDIA GeForce GTX 1080 Ti', 'gtx1080ti'],
    ['Tesla T4', 't4'],
    ['Tesla V100-SXM2-16GB', 'v100'],
    ['NVIDIA L4', 'l4'],
    ['NVIDIA L40S', 'l40s'],
    ['NVIDIA A10G', 'a10g'],
    ['NVIDIA RTX A6000', 'a6000'],
    ['NVIDIA RTX 6000 Ada Generation', 'rtx6000ada'],
    ['NVIDIA GH200 480GB', 'gh200'],
    ['NVIDIA TITAN RTX', 'titan-rtx'],
    ['Some Future Accelerator!', 'some-future-accelerator'],
    ['A100', 'a100'],
    ['rtx4090', 'rtx4090'],
    ['NVIDIA', 'nvidia'],
  ];
  for (const [name, type] of cases) {
    it(`${JSON.stringify(name)} → ${type}`, () => {
      const got = gpuTypeOf(name);
      assert.equal(got, type);
      assert.match(got, /^[a-z0-9-]+$/);
    });
  }
});

describe('resource classes and who can serve a job', () => {
  it('maps resources to a queue name without colons', () => {
    assert.equal(resourceClassFor({}), 'cpu');
    assert.equal(resourceClassFor({ cpus: 4, memoryGb: 8 }), 'cpu');
    assert.equal(resourceClassFor({ gpus: 0, gpuType: 'a100' }), 'cpu');
    assert.equal(resourceClassFor({ gpus: 1 }), 'gpu-any');
    assert.equal(resourceClassFor({ gpus: 2, minVramGb: 40 }), 'gpu-any');
    assert.equal(resourceClassFor({ gpus: 1, gpuType: 'A100' }), 'gpu-a100');
    assert.equal(resourceClassFor({ gpus: 1, gpuType: 'NVIDIA GeForce RTX 4090' }), 'gpu-rtx4090');
    assert.equal(resourceClassFor({ gpus: 1, gpuType: '  ' }), 'gpu-any');
  });

  it('checks GPU count, type, VRAM (decimal GB), CPUs and memory', async () => {
    const [a100x2, t4x1, mixed, cpuOnly] = await Promise.all([probe('a100x2'), probe('t4x1'), probe('mixed'), probe('fails')]);
    const node = (caps: Capabilities): Capabilities => ({ ...caps, cpus: 8, memoryGb: 64 });
    const table: [Capabilities, Resources, boolean][] = [
      [node(a100x2), { gpus: 2, gpuType: 'a100', minVramGb: 80 }, true],
      [node(a100x2), { gpus: 3 }, false],
      [node(a100x2), { gpus: 1, gpuType: 'h100' }, false],
      [node(t4x1), { gpus: 1, gpuType: 't4', minVramGb: 16 }, true], // 15360 MiB = 16.1 GB
      [node(t4x1), { gpus: 1, minVramGb: 24 }, false],
      [node(mixed), { gpus: 1, gpuType: 'h100', minVramGb: 80 }, true], // 81559 MiB = 85.5 GB
      [node(mixed), { gpus: 2, minVramGb: 24 }, true],
      [node(mixed), { gpus: 2, minVramGb: 26 }, false],
      [node(mixed), { gpus: 2, gpuType: 'rtx4090' }, false],
      [node(cpuOnly), { cpus: 2, memoryGb: 16 }, true],
      [node(cpuOnly), { gpus: 1 }, false],
      [node(cpuOnly), { cpus: 9 }, false],
      [node(cpuOnly), { memoryGb: 65 }, false],
      [node(a100x2), {}, true],
    ];
    for (const [caps, resources, expected] of table) {
      assert.equal(canServe(caps, resources), expected, `${caps.gpuTypes.join('+') || 'cpu'} serving ${JSON.stringify(resources)}`);
      // A node that can serve a job also consumes that job's queue.
      if (expected) assert.ok(caps.resourceClasses.includes(resourceClassFor(resources)));
    }
    assert.deepEqual(unmetRequirements(node(t4x1), { gpus: 2, gpuType: 'a100', cpus: 16 }), [
      'needs 16 CPUs, the node has 8',
      'needs 2 a100 GPUs, the node has 0',
    ]);
  });

  it('does not count a GPU of unknown memory toward a VRAM requirement', () => {
    const caps = { cpus: 4, memoryGb: 16, gpus: [{ index: 0, name: 'NVIDIA L4', gpuType: 'l4', memoryTotalMb: null, memoryUsedMb: null, utilizationPct: null, temperatureC: null }] };
    assert.equal(canServe(caps, { gpus: 1 }), true);
    assert.equal(canServe(caps, { gpus: 1, minVramGb: 1 }), false);
  });
});
