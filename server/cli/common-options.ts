import { loadConfig, type ConfigOverrides, type LoadedConfig } from '../config/load.ts';
import type { CliIo } from './io.ts';

/** Options every command accepts, in `parseArgs` form. */
export const commonOptions = {
  home: { type: 'string' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function loadCommandConfig(io: CliIo, values: { home?: string | undefined; config?: string | undefined }, extra: ConfigOverrides = {}): LoadedConfig {
  return loadConfig({
    env: io.env,
    cwd: io.cwd,
    overrides: {
      ...extra,
      ...(values.home !== undefined ? { home: values.home } : {}),
      ...(values.config !== undefined ? { configPath: values.config } : {}),
    },
  });
}
