/** What one import may hold; each limit is named in the error that enforces it (and in README.md). */
export const LIMITS = {
  /** A file on disk or an HTTP upload. */
  maxFileBytes: 2 * 1024 ** 3,
  /** `format: json` parses the whole document in memory. */
  maxJsonBytes: 256 * 1024 ** 2,
  maxRows: 10_000_000,
  maxColumns: 1_000,
  /** One CSV field, or one JSON(L) string value, in characters. */
  maxFieldChars: 1_048_576,
  /** One JSONL line, in characters. */
  maxLineChars: 16 * 1_048_576,
  /** Distinct values of a label column. */
  maxLabels: 10_000,
  /** A column with at most this many distinct values (repeating, short) is inferred as a category. */
  categoryMaxDistinct: 50,
  categoryMaxChars: 100,
  /** Distinct values counted per column before counting stops (`distinct` is then a lower bound). */
  distinctTrackMax: 1_000,
  nameMaxChars: 100,
  listDefault: 20,
  listMax: 100,
  sampleDefault: 5,
  sampleMax: 50,
  /** datasets_get keeps its sample rows under this many bytes of JSON. */
  sampleBudgetBytes: 16 * 1024,
  /** A sampled string value longer than this is cut (and ends with …). */
  sampleValueChars: 300,
  /** datasets_get lists at most this many labels with their per-split counts. */
  getLabelsMax: 200,
  /** datasets_import reports the most frequent labels. */
  importLabelsTop: 20,
  lineageMax: 100,
  defaultSeed: 42,
  defaultValidation: 0.1,
  defaultTest: 0.1,
} as const;

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
