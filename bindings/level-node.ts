/**
 * latchkey/level in Node (package.json exports, condition "node"): installs the Node platform, as
 * the Node entry (index.ts) does, then the backend itself (level.ts, which browsers load directly).
 */
import './platform-node.js';
import './debug.js';
export * from './level.js';
