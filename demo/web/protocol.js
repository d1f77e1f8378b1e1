// Shared between the page (pool.js) and its workers (worker.js): the layout of the control
// words (an Int32Array over a SharedArrayBuffer) and the error codes counted per worker.
// OPS + id counts a worker's operations done (they returned), FAILED + id its operations refused
// (a LatchkeyError, ENOTLEADER on a follower), ERRORS the refusals by code.
export const CTRL = { STOP: 0, OPS: 8, FAILED: 8 + 64, ERRORS: 8 + 128 };
export const CODES = ['ENOTLEADER', 'ESTALE', 'ENOMEM', 'EBUSY', 'ECLOSED', 'EINVAL', 'other'];
