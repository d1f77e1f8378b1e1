// A stand-in for Node's `stream` module as @ljharb/through (tape's output stream) uses it: the
// legacy Stream, an EventEmitter whose pipe() writes each 'data' to the destination and ends it
// on 'end'.
import { EventEmitter } from './events.js';

export function Stream() {
  EventEmitter.call(this);
}
Stream.prototype = Object.create(EventEmitter.prototype, { constructor: { value: Stream, writable: true, configurable: true } });
Stream.prototype.pipe = function (dest) {
  this.on('data', (chunk) => { dest.write(chunk); });
  this.on('end', () => { if (typeof dest.end === 'function') dest.end(); });
  dest.emit?.('pipe', this);
  return dest;
};
Stream.Stream = Stream;
export default Stream;
