// @ts-check
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.anvil/**', 'scratch/**', 'coverage/**', 'dist/**', 'dist.building/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // stdout belongs to the stdio transport: server code never prints with console.
    files: ['server/**/*.ts', 'plugins/**/*.ts', 'tools/**/*.ts', 'knowledge/**/*.ts', 'graphs/**/*.ts', 'gpu-workers/**/*.ts'],
    rules: { 'no-console': 'error' },
  },
);
