// ESLint flat config for the JS layer, tests, examples and benchmarks.
import js from '@eslint/js'
import globals from 'globals'

export default [
  {
    ignores: ['binding.js', 'binding.d.ts', 'target/**', 'node_modules/**', 'npm/**', 'crates/**', '**/*.ts'],
  },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: { ...globals.node } },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
  {
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
      'prefer-const': 'error',
      'no-var': 'error',
    },
  },
]
