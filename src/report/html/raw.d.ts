// `import text from 'FILE?raw'`: the file's content as a string (bin/build.mjs bundles it, vitest reads it).
declare module '*?raw' {
  const text: string;
  export default text;
}
