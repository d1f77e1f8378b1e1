// Shared between the page (pool.js) and its workers (worker.js): the layout of the control
// words (an Int32Array over a SharedArrayBuffer) and the error codes counted per worker.
export const CTRL = { STOP: 0, OPS: 8, ERRORS: 8 + 64 };
export const CODES = ['ENOTLEADER', 'ESTALE', 'ENOMEM', 'EBUSY', 'ECLOSED', 'EINVAL', 'other'];
