/** Migration files imported as text (Vite's `?raw`), to replay a migration's data changes in a test. */
declare module "*.sql?raw" {
  const text: string;
  export default text;
}
