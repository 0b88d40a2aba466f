/** Unit specs sit beside the code; integration and end-to-end suites live in test/. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testRegex: '.*\\.(spec|test|e2e)\\.ts$',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }] },
  // See test/support/content-disposition.cjs.
  moduleNameMapper: { '^content-disposition$': '<rootDir>/test/support/content-disposition.cjs' },
  moduleFileExtensions: ['ts', 'js', 'cjs', 'json'],
  setupFiles: ['<rootDir>/test/support/quiet-logs.ts'],
  testTimeout: 60000,
};
