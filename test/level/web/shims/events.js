// A small stand-in for Node's `events` module in the browser build of the level suite page
// (test/level/web): EventEmitter with Node's semantics where tape and abstract-level rely on
// them: 'newListener' emitted before a listener is added and 'removeListener' after one is
// removed, once() wrappers removable by the original function, emit('error') with no listener
// throwing at once. A plain constructor function (not a class), because tape extends it with
// inherits() and never calls it: the listener table is created on first use.
export function EventEmitter() {
  this._events = undefined;
  this._maxListeners = undefined;
}

function table(ee) {
  if (ee._events === undefined || ee._events === null) ee._events = Object.create(null);
  return ee._events;
}

function add(ee, name, fn, prepend) {
  if (typeof fn !== 'function') throw new TypeError('The "listener" argument must be of type function');
  const events = table(ee);
  if (events.newListener !== undefined) ee.emit('newListener', name, fn.listener ? fn.listener : fn);
  const list = events[name] ?? (events[name] = []);
  if (prepend) list.unshift(fn); else list.push(fn);
  return ee;
}

function onceWrapper(ee, name, fn) {
  const wrapper = function (...args) {
    if (wrapper.fired) return undefined;
    wrapper.fired = true;
    ee.removeListener(name, wrapper);
    return fn.apply(ee, args);
  };
  wrapper.listener = fn;
  wrapper.fired = false;
  return wrapper;
}

EventEmitter.prototype.addListener = function (name, fn) { return add(this, name, fn, false); };
EventEmitter.prototype.on = EventEmitter.prototype.addListener;
EventEmitter.prototype.prependListener = function (name, fn) { return add(this, name, fn, true); };
EventEmitter.prototype.once = function (name, fn) { return add(this, name, onceWrapper(this, name, fn), false); };
EventEmitter.prototype.prependOnceListener = function (name, fn) { return add(this, name, onceWrapper(this, name, fn), true); };

EventEmitter.prototype.removeListener = function (name, fn) {
  const events = this._events;
  const list = events?.[name];
  if (list === undefined) return this;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i] === fn || list[i].listener === fn) {
      const [removed] = list.splice(i, 1);
      if (list.length === 0) delete events[name];
      if (events.removeListener !== undefined) this.emit('removeListener', name, removed.listener ?? removed);
      break;
    }
  }
  return this;
};
EventEmitter.prototype.off = EventEmitter.prototype.removeListener;

EventEmitter.prototype.removeAllListeners = function (name) {
  const events = this._events;
  if (events === undefined || events === null) return this;
  const names = arguments.length === 0 ? Reflect.ownKeys(events).filter((n) => n !== 'removeListener') : [name];
  for (const n of names) {
    const list = events[n];
    if (list === undefined) continue;
    for (let i = list.length - 1; i >= 0; i--) this.removeListener(n, list[i]);
  }
  if (arguments.length === 0) {
    const rest = events.removeListener;
    if (rest !== undefined) for (let i = rest.length - 1; i >= 0; i--) this.removeListener('removeListener', rest[i]);
  }
  return this;
};

EventEmitter.prototype.emit = function (name, ...args) {
  const list = this._events?.[name];
  if (list === undefined) {
    if (name === 'error') {
      const err = args[0];
      if (err instanceof Error) throw err;
      throw new Error(`Unhandled error. (${String(err)})`);
    }
    return false;
  }
  for (const fn of [...list]) fn.apply(this, args);
  return true;
};

EventEmitter.prototype.listeners = function (name) { return (this._events?.[name] ?? []).map((f) => f.listener ?? f); };
EventEmitter.prototype.rawListeners = function (name) { return [...(this._events?.[name] ?? [])]; };
EventEmitter.prototype.listenerCount = function (name) { return this._events?.[name]?.length ?? 0; };
EventEmitter.prototype.eventNames = function () { return this._events ? Reflect.ownKeys(this._events) : []; };
EventEmitter.prototype.setMaxListeners = function (n) { this._maxListeners = n; return this; };
EventEmitter.prototype.getMaxListeners = function () { return this._maxListeners ?? EventEmitter.defaultMaxListeners; };
EventEmitter.defaultMaxListeners = 10;
EventEmitter.EventEmitter = EventEmitter;

/** events.once(emitter, name): a promise of the next event's arguments (rejects on 'error'). */
export function once(emitter, name) {
  return new Promise((resolve, reject) => {
    const onError = (err) => { emitter.removeListener(name, onEvent); reject(err); };
    const onEvent = (...args) => { if (name !== 'error') emitter.removeListener('error', onError); resolve(args); };
    emitter.once(name, onEvent);
    if (name !== 'error') emitter.once('error', onError);
  });
}
EventEmitter.once = once;

export default EventEmitter;
