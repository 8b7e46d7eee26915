// Kept equal to package.json's version (a test checks): the standalone executable has no
// package.json to read at run time.
export const VERSION = '0.1.0';
