import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'coverage/', '.bench-tmp/', 'src/database/migrations/', 'test/generated/', 'libs/*/dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly' },
      // Nest resolves constructor dependencies from decorator metadata: those imports are values.
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-console': ['error', { allow: ['error', 'warn'] }],
      // TypeScript already checks names; the rule does not know Node's globals.
      'no-undef': 'off',
    },
  },
  {
    files: ['src/main.ts', 'scripts/**', 'bench/**', 'libs/*/bench/**', 'test/**'],
    rules: { 'no-console': 'off' },
  },
);
