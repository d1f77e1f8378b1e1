// A stand-in for Node's `path` as tape uses it in the browser: only `sep` (its stack-trace
// rewriting of failed assertions).
export const sep = '/';
export default { sep };
