// A worker thread of the follower demo's Node leader (demo/web/follow-leader.js): attaches to the
// leader's connection and runs its share of the workload (follow-workload.js) at a steady pace,
// `batch` operations and then a pause of `pauseMs`, publishing how many it has done in the
// control words after each one. On PAUSE it acknowledges (having done its last operation) and
// waits for RUN; on STOP it closes and ends.

import { workerData } from 'node:worker_threads';
import { attach } from '../../dist/index.js';
import { followOp } from './follow-workload.js';
import { CMD, RUN, PAUSE, STOP, DONE, PAUSED } from './follow-leader.js';

const { handle, id, ctrl: buffer, uri, batch, pauseMs } = workerData;
const ctrl = new Int32Array(buffer);
const conn = await attach(handle);
const c = conn.openSession().openCursor(uri);
let i = 0;
for (;;) {
  const cmd = Atomics.load(ctrl, CMD);
  if (cmd === STOP) break;
  if (cmd === PAUSE) {
    Atomics.store(ctrl, PAUSED + id, 1);
    Atomics.wait(ctrl, CMD, PAUSE);
    continue;
  }
  for (let j = 0; j < batch; j++, i++) {
    const op = followOp(id, i);
    if (op.type === 'put') c.put(op.key, op.value); else c.remove(op.key);
    Atomics.store(ctrl, DONE + id, i + 1);
  }
  Atomics.wait(ctrl, CMD, RUN, pauseMs); // the pace; a command wakes it at once
}
c.close();
await conn.close();
