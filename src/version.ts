/** The hub's release, as `info` reports it; test/src/version.test.ts keeps it equal to package.json's. */
export const HUB_VERSION = '0.1.0';
