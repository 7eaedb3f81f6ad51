// esbuild's text loader (see package.json "build") turns a .css import into its source text.
declare module "*.css" {
  const text: string;
  export default text;
}
