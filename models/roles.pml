/*
 * roles.pml: table open against step-down and step-up (assembly/conn/role.ts, dhandle.ts,
 * assembly/index.ts lk_role_change, bindings/connection.ts stepDown / stepUp / checkpoint,
 * bindings/session.ts use, bindings/cursor.ts renew).
 *
 * Checked exhaustively by spin (models/run.sh). What it proves, for every interleaving of:
 *   CLIENT 0  opens table t (dhandleGet + dhandleUse), then makes 2 writes through its cursor;
 *   CLIENT 1  opens table t, then makes 1 write;
 *   ROLES     steps down (role word, sweep, drain, final checkpoint), then steps up (loads the
 *             image, new role word, sweep, drain) (-DTHIRD_CHANGE: then steps down again);
 *   CKPT      one leader checkpoint (checkpoint lock, gate close + drain, copy, gate open),
 * that:
 *   P1  no write is applied on a follower after a step-down has resolved (assert in write());
 *   P2  no write is acknowledged and then lost: an acknowledged write is in the final checkpoint
 *       of the step-down that follows it (assert at the ack), in the image a step-up loads
 *       (assert in stepUp) and in the final table (end check);
 *   P3  a leader checkpoint's copy sees no write land while it copies (assert in write());
 *   P4  after every role change has resolved, every OPEN dhandle not marked OUTDATED carries the
 *       current role word (the dhandle.ts invariant (c); end check);
 *   P5  no deadlock: spin's invalid end states (every process reaches its end).
 *
 * Abstractions (bounds): one table; 2 client threads, 3 writes, 2 role changes, 1 checkpoint;
 * 4 dhandle slots and 2 opens per client, renewals included (slots are never reused: the idle sweep that frees them is not modelled); the handle
 * list's find is one atomic step (each slot's state is one atomic load in the code, DH_ROLE is
 * immutable once published, so the result is a handle that was usable when its slot was read);
 * a sweep's load + compare-and-swap of one slot is one step (a failed CAS re-judges the slot);
 * the table's content is the set of writes applied; a checkpoint image is a copy of that set.
 * Page latches are not modelled here (models/pagedel.pml does the tree).
 *
 * Variants (models/run.sh runs each and expects spin to reject it with a trail):
 *   -DVARIANT_WT          WiredTiger's seed race: the open path does not re-check the role word
 *                         after publishing OPEN (the sweep already skips handles not yet OPEN).
 *   -DVARIANT_READ_FIRST  writeEnter loads the role word before announcing the write.
 *   -DVARIANT_NO_DRAIN    a role change does not drain in-flight writes.
 */

#define LEADER 1
#define GATE   2
#define GEN    4

/* dhandle state bits (dhandle.ts DH_ALLOC, DH_EXCLUSIVE, DH_OPEN, DH_OUTDATED) */
#define ALLOC 1
#define EXCL  2
#define OPEN  4
#define OUTD  8

#define NDH 4
#define NT  3          /* thread slots: clients 0, 1 and the checkpointer / role changer */

byte role = GEN | LEADER;   /* SB_ROLE: generation 1, leader */
byte dhs[NDH];              /* DH_STATE */
byte dhrole[NDH];           /* DH_ROLE */
byte hl = 0;                /* SB_DHLIST_LATCH: 0 free, 255 exclusive, n shared holders */
bit  ckpt = 0;              /* SB_CKPT_LATCH (the bindings take it with try + wait) */
bit  writing[NT];           /* TS_WRITING: a write's announcement */

byte tree = 0;              /* the table's content: bit w = write w applied */
byte acked = 0;             /* writes acknowledged to their callers */
byte image = 0;             /* the last step-down's final checkpoint */
bit  imageTaken = 0;        /* ... taken (cleared when a step-up begins a new term) */
bit  resolvedFollower = 0;  /* a step-down has returned; no step-up has begun since */
bit  copying = 0;           /* a leader checkpoint is copying, its gate closed and drained */
byte done = 0;

#define STAMP(w) ((w) & ~GATE)

/* An assertion that says, in the trail, which property failed. */
#define CHECK(c, msg) if :: !(c) -> printf(msg); assert(c) :: else -> skip fi

/* ---- the handle list (dhandle.ts) ---- */

/* findLocked: an OPEN, not OUTDATED dhandle of the table opened under r0, or 255 */
inline findLocked(dh, r0) {
  dh = 255; i = 0;
  do
  :: i < NDH && (dhs[i] & (ALLOC | OPEN | OUTD)) == (ALLOC | OPEN) && dhrole[i] == r0 -> dh = i; break
  :: i < NDH && !((dhs[i] & (ALLOC | OPEN | OUTD)) == (ALLOC | OPEN) && dhrole[i] == r0) -> i++
  :: i == NDH -> break
  od
}

/* dhandleGet: steps 1-5 of dhandle.ts */
inline dhandleGet(dh) {
  atomic {                                                  /* 1. the role decision */
    r0 = STAMP(role);
    printf("T%d: dhandleGet: role decision r0 = gen %d leader=%d\n", me, r0 / GEN, r0 & LEADER)
  };
  atomic {                                                  /* 2-3 under latchShared(handle list) */
    hl != 255 -> findLocked(dh, r0);
    if
    :: dh != 255 -> printf("T%d: dhandleGet: found dhandle %d (stamp gen %d)\n", me, dh, dhrole[dh] / GEN)
    :: else -> skip
    fi
  };
  if
  :: dh == 255 ->
     atomic {                                               /* 3. under latchExclusive(handle list) */
       hl == 0 -> findLocked(dh, r0);
       if
       :: dh == 255 ->                                      /* allocate: EXCLUSIVE, DH_ROLE = r0 */
          i = 0;
          do
          :: i < NDH && dhs[i] == 0 -> dh = i; break
          :: i < NDH && dhs[i] != 0 -> i++
          :: i == NDH -> CHECK(false, "MODEL BOUND: out of dhandle slots\n")
          od;
          i = 0;
          dhrole[dh] = r0;
          dhs[dh] = ALLOC | EXCL;
          allocated = 1;
          printf("T%d: dhandleGet: allocated dhandle %d, EXCLUSIVE, stamped gen %d\n", me, dh, r0 / GEN)
       :: else -> allocated = 0
       fi
     };
     if
     :: allocated ->
        /* 4. open outside the lock (injection point dhandle-open-before-set-open), publish OPEN */
        atomic {
          dhs[dh] = (dhs[dh] | OPEN) & ~EXCL;
          printf("T%d: dhandleGet: dhandle %d published OPEN\n", me, dh)
        };
#ifndef VARIANT_WT
        atomic {                                            /* 5. the re-check */
          w = role;
          if
          :: STAMP(w) != r0 ->
             dhs[dh] = dhs[dh] | OUTD;
             printf("T%d: dhandleGet: re-check: role word is gen %d now: dhandle %d marked OUTDATED\n", me, w / GEN, dh)
          :: else -> skip
          fi
        };
#endif
        allocated = 0
     :: else -> skip
     fi
  :: else -> skip
  fi;
  r0 = 0; w = 0
}

/* (the code tries DHANDLE_TRIES = 10000 times, then EBUSY; the model gives up after OPEN_TRIES:
 * the role sweep also outdates dhandles opened after the change under the new word, so an open
 * can chase the sweep across the slots; giving up only ends that client's script early) */
#define OPEN_TRIES 2   /* dhandleGet calls per client, renewals included */
inline openTable(dh) {
  do
  :: tries == OPEN_TRIES -> dh = 255; printf("T%d: open: EBUSY after %d tries\n", me, tries); break
  :: tries < OPEN_TRIES ->
     tries++;
     dhandleGet(dh);
     if
     :: atomic { (dhs[dh] & (ALLOC | OPEN | OUTD)) == (ALLOC | OPEN) && dhrole[dh] == STAMP(role) } -> break
     :: else -> printf("T%d: dhandleUse(%d): EAGAIN (outdated or not current): get another\n", me, dh)
     fi
  od
}

/* ---- the write gate (role.ts) ---- */

/* writeEnter(stamp): res = 0 OK, 1 ENOTLEADER, 2 EAGAIN (dhandle from before a role change) */
inline writeEnter(stamp, res) {
  do
  ::
#ifndef VARIANT_READ_FIRST
     atomic { writing[me] = 1; printf("T%d: writeEnter: announced (TS_WRITING = 1)\n", me) };
     atomic {
       w = role;                                            /* ... then load the role word */
#else
     atomic { w = role; printf("T%d: writeEnter: loaded the role word first: gen %d leader=%d\n", me, w / GEN, w & LEADER) };
     atomic {
       writing[me] = 1;                                     /* ... then announce */
       printf("T%d: writeEnter: announced (TS_WRITING = 1)\n", me);
#endif
       if
       :: (w & GATE) != 0 ->
          writing[me] = 0;                                  /* step aside for the drain */
          printf("T%d: writeEnter: gate closed (checkpoint): wait\n", me);
          res = 3
       :: else ->
          if
          :: (w & LEADER) == 0 || w != stamp ->
             writing[me] = 0;
             if
             :: w == stamp -> res = 1
             :: else -> res = 2
             fi;
             printf("T%d: writeEnter: role gen %d leader=%d, dhandle stamp gen %d: refused (1 ENOTLEADER, 2 EAGAIN): %d\n", me, w / GEN,
               w & LEADER, stamp / GEN, res)
          :: else -> res = 0; printf("T%d: writeEnter: passed the gate (role gen %d)\n", me, w / GEN)
          fi
       fi
     };
     if
     :: res == 3 -> (role != w)                             /* gateWait */
     :: else -> w = 0; break
     fi
  od
}

/* a cursor's write of write-id bit b through dh, renewing dh after a role change */
inline write(b) {
  do
  :: dh == 255 -> break                                     /* the open gave up */
  :: dh != 255 ->
     writeEnter(dhrole[dh], res);
     if
     :: res == 0 ->
        atomic {
          CHECK(!resolvedFollower, "VIOLATED P1: a write is applied on a follower after its step-down resolved\n");
          CHECK(!copying, "VIOLATED P3: a write landed while a checkpoint copied with its gate closed\n");
          tree = tree | b;
          printf("T%d: write %d applied under role gen %d\n", me, b, role / GEN)
        };
        atomic { writing[me] = 0; printf("T%d: writeExit\n", me) }; /* writeExit */
        atomic {
          acked = acked | b;
          CHECK(!imageTaken || (image & b), "VIOLATED P2: a write is acknowledged that the step-down's final checkpoint lacks\n");
          printf("T%d: write %d acknowledged\n", me, b)
        };
        break
     :: res == 1 -> break
     :: res == 2 -> openTable(dh)                           /* cursor renew: as an open */
     fi
  od;
  res = 0
}

proctype Client(byte me; byte first; byte nwrites) {
  byte dh, r0, w, i, res, tries;
  bit allocated;
  openTable(dh);
  write(first);
  if
  :: nwrites > 1 -> write(first << 1)
  :: else -> skip
  fi;
  done++
}

/* ---- role changes (index.ts lk_role_change, connection.ts stepDown / stepUp) ---- */

inline ckptLock() { atomic { ckpt == 0 -> ckpt = 1 } }

inline drain() {
  i = 0;
  do
  :: i < NT && i != me -> atomic { (writing[i] == 0) -> i++ }
  :: i < NT && i == me -> i++
  :: i == NT -> atomic { i = 0; printf("T%d: drain: no write in flight\n", me) }; break
  od
}

inline sweepRole() {
  i = 0;
  do
  :: i < NDH ->
     atomic {
       if
       :: (dhs[i] & (ALLOC | OPEN | OUTD)) == (ALLOC | OPEN) ->
          dhs[i] = dhs[i] | OUTD;
          printf("T%d: sweep: dhandle %d OPEN: marked OUTDATED\n", me, i)
       :: (dhs[i] & (ALLOC | OPEN)) == ALLOC ->
          printf("T%d: sweep: dhandle %d not OPEN yet: skipped\n", me, i)
       :: dhs[i] == 0 ->
          printf("T%d: sweep: slot %d empty\n", me, i)
       :: else -> skip
       fi;
       i++
     }
  :: i == NDH -> i = 0; break
  od
}

inline roleChange(leader) {
  atomic {
    assert((role & GATE) == 0);
    role = ((role & ~(GATE | LEADER)) + GEN) | leader;      /* roleSet: one store */
    printf("T%d: role change: role word now gen %d leader=%d\n", me, role / GEN, leader)
  };
  sweepRole();
#ifndef VARIANT_NO_DRAIN
  drain()
#endif
}

inline stepDown() {
  ckptLock();
  roleChange(0);
  atomic { image = tree; imageTaken = 1; printf("T%d: step-down: final checkpoint holds writes %d\n", me, image) };
  atomic { resolvedFollower = 1; printf("T%d: step-down resolved (tables read-only)\n", me) };
  ckpt = 0
}

inline stepUp() {
  ckptLock();
  atomic {
    CHECK((acked & ~image) == 0, "VIOLATED P2: the image a step-up loads lacks an acknowledged write\n");
    tree = image; resolvedFollower = 0; imageTaken = 0;
    printf("T%d: step-up: loaded the image (writes %d)\n", me, image)
  };
  roleChange(LEADER);
  ckpt = 0
}

proctype Roles(byte me) {
  byte i;
  stepDown();
  stepUp();
#ifdef THIRD_CHANGE
  stepDown();
#endif
  done++
}

/* a leader checkpoint (connection.ts checkpoint + takeImage with the gate) */
proctype Checkpoint(byte me) {
  byte i;
  ckptLock();
  if
  :: (role & LEADER) == 0 -> printf("T%d: checkpoint: ENOTLEADER\n", me)
  :: else ->
     atomic { role = role | GATE; printf("T%d: checkpoint: gate closed\n", me) }; /* gateClose: CAS */
     drain();
     atomic { copying = 1; printf("T%d: checkpoint: copying the tables\n", me) };
     atomic { copying = 0; printf("T%d: checkpoint: copy done\n", me) };
     atomic { role = role & ~GATE; printf("T%d: checkpoint: gate open\n", me) } /* gateOpen */
  fi;
  ckpt = 0;
  done++
}

init {
  byte i;
  atomic {
    run Client(0, 1, 2);
    run Client(1, 4, 1);
    run Roles(2);
    run Checkpoint(2)
  };
  (done == 4);
  atomic {
    CHECK((acked & ~tree) == 0, "VIOLATED P2: an acknowledged write is missing from the final table\n");
    i = 0;
    do
    :: i < NDH ->
       CHECK((dhs[i] & (ALLOC | OPEN | OUTD)) != (ALLOC | OPEN) || dhrole[i] == STAMP(role),
         "VIOLATED P4: after the role changes resolved, an OPEN dhandle not marked OUTDATED carries an old role word\n");
       i++
    :: i == NDH -> break
    od
  }
}
