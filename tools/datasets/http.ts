/**
 * Dataset upload over HTTP (scope `datasets:write`, the caller's project):
 *
 *   PUT /api/datasets/:name/upload?format=csv&labelColumn=category&textColumn=text
 *       &featureColumns=a,b&splitColumn=split&validation=0.1&test=0.1&seed=42
 *       &columnTypes={"zip":"category"}   (or columnTypes=zip:category,age:number)
 *   body: the file → 201 (a new version) or 200 (identical to the latest) with what datasets_import answers
 *
 * `format` may instead come from the Content-Type (text/csv, application/x-ndjson or
 * application/jsonl, application/json). The body is streamed to a temp file, then imported exactly
 * like a file given to datasets_import.
 */
import { AnvilError, ErrorCodes, type PluginHttpContext, type PluginRoute } from 'anvil/plugin';
import * as z from 'zod';
import { COLUMN_TYPES, type ColumnType } from './columns.ts';
import type { ImportOptions } from './importer.ts';
import { FORMATS, type DatasetFormat } from './readers.ts';
import type { DatasetsRuntime } from './runtime.ts';
import { importResult } from './tools/import.ts';

const CONTENT_TYPES: Readonly<Record<string, DatasetFormat>> = {
  'text/csv': 'csv',
  'application/csv': 'csv',
  'application/x-ndjson': 'jsonl',
  'application/jsonl': 'jsonl',
  'application/x-jsonlines': 'jsonl',
  'application/json': 'json',
};

const fraction = z.coerce.number().min(0).lt(1);
const query = z
  .object({
    format: z.enum(FORMATS).optional(),
    textColumn: z.string().min(1).max(200).optional(),
    labelColumn: z.string().min(1).max(200).optional(),
    featureColumns: z.string().max(100_000).optional(),
    splitColumn: z.string().min(1).max(200).optional(),
    validation: fraction.optional(),
    test: fraction.optional(),
    seed: z.coerce.number().int().min(0).max(2 ** 32 - 1).optional(),
    columnTypes: z.string().max(100_000).optional(),
  })
  .strict();

function invalid(message: string): AnvilError {
  return new AnvilError(ErrorCodes.INVALID_INPUT, message);
}

function isColumnType(value: unknown): value is ColumnType {
  return typeof value === 'string' && (COLUMN_TYPES as readonly string[]).includes(value);
}

/** `{"a":"number"}` or `a:number,b:category`. */
function parseColumnTypes(raw: string): Record<string, ColumnType> {
  const entries: Array<[string, unknown]> = [];
  if (raw.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw invalid('columnTypes must be a JSON object such as {"zip":"category"}, or zip:category,age:number');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('columnTypes must be a JSON object');
    entries.push(...Object.entries(parsed));
  } else {
    for (const pair of raw.split(',').filter((item) => item.trim().length > 0)) {
      const at = pair.lastIndexOf(':');
      if (at <= 0) throw invalid(`columnTypes entry ${JSON.stringify(pair)} is not column:type`);
      entries.push([pair.slice(0, at).trim(), pair.slice(at + 1).trim()]);
    }
  }
  const types: Record<string, ColumnType> = {};
  for (const [column, type] of entries) {
    if (!isColumnType(type)) throw invalid(`columnTypes.${column} must be one of ${COLUMN_TYPES.join(', ')}`);
    Object.defineProperty(types, column, { value: type, enumerable: true, writable: true, configurable: true });
  }
  return types;
}

function uploadOptions(c: PluginHttpContext): { format: string; options: ImportOptions } {
  const parsed = query.safeParse(c.req.query());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.map(String).join('.') ?? '';
    throw invalid(issue?.code === 'unrecognized_keys' ? `unknown query parameter(s): ${issue.keys.join(', ')}` : `query parameter ${key}: ${issue?.message ?? 'invalid'}`);
  }
  const { format, featureColumns, validation, test, seed, columnTypes, ...columns } = parsed.data;
  const contentType = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const chosen = format ?? CONTENT_TYPES[contentType];
  if (!chosen) throw invalid(`say the format with ?format=csv|jsonl|json or a Content-Type (text/csv, application/x-ndjson, application/json); got ${JSON.stringify(contentType || 'none')}`);
  const split = validation === undefined && test === undefined && seed === undefined ? undefined : { validation, test, seed };
  return {
    format: chosen,
    options: {
      ...columns,
      ...(featureColumns === undefined ? {} : { featureColumns: featureColumns.split(',').map((item) => item.trim()).filter((item) => item.length > 0) }),
      ...(split ? { split } : {}),
      ...(columnTypes === undefined ? {} : { columnTypes: parseColumnTypes(columnTypes) }),
    },
  };
}

export function datasetRoutes(datasets: () => DatasetsRuntime): PluginRoute[] {
  return [
    {
      method: 'PUT',
      path: '/api/datasets/:name/upload',
      scopes: ['datasets:write'],
      handler: async (c) => {
        const runtime = datasets();
        const name = c.req.param('name') ?? '';
        const { format, options } = uploadOptions(c);
        const body = c.req.raw.body;
        if (!body) throw invalid('the request has no body to import');
        const principal = c.get('principal');
        const outcome = await runtime.service.importUpload({ project: principal.project, by: principal.id, name, options }, body, format);
        return c.json(importResult(outcome), outcome.created ? 201 : 200);
      },
    },
  ];
}
