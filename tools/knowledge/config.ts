/**
 * The knowledge plugin's settings: the `knowledge` section of anvil.config.json (and the
 * ANVIL_KB_* / QDRANT_* variables), parsed once with the rest of the server's config and handed to
 * the built-in plugin; a bad value is refused at start with its key named.
 */
import { z } from 'anvil/plugin';

/** One file (PDF, DOCX, …, or a JSONL corpus) at most: ingest's own limit, and the upload route's ceiling. */
export const MAX_FILE_BYTES = 100 * 1024 ** 2;

export const knowledgeConfig = z
  .object({
    /** Where new dense indexes go: `pgvector`, `pgarray` or `qdrant`; unset, chosen by size (see docs/knowledge.md). */
    store: z.string().min(1).max(100).optional(),
    /** A Qdrant server for the `qdrant` store; its API key is read from the variable `apiKeyEnv` names (never stored in config). */
    qdrant: z.object({ url: z.url(), apiKeyEnv: z.string().min(1).default('QDRANT_API_KEY') }).strict().optional(),
    /** An OpenAI-compatible chat endpoint for kb_answer; extractive answers without it. The key is read from the variable `apiKeyEnv` names. */
    llm: z.object({ url: z.url(), model: z.string().min(1), apiKeyEnv: z.string().optional() }).strict().optional(),
    /** The largest document POST /api/kb/:kb/documents accepts (413 past it). */
    maxUploadBytes: z.number().int().min(1).max(MAX_FILE_BYTES).default(MAX_FILE_BYTES),
  })
  .strict();

export type KnowledgeConfig = z.output<typeof knowledgeConfig>;
