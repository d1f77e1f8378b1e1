/**
 * `latchkey/nats` in Node: NatsPageStore (bindings/store-nats.ts) with the Node platform
 * installed, which registers the NATS client's TCP transport for `nats://` homes (browsers get
 * store-nats.js itself: `ws://` and `wss://` homes).
 */
import './platform-node.js';

export * from './store-nats.js';
