/*
 * pagedel.pml: page deletion against inserts with splits, readers and scans
 * (assembly/btree/pagedel.ts, split.ts, search.ts, scan.ts, insert.ts, assembly/epoch.ts).
 *
 * Checked exhaustively by spin (models/run.sh), twice: with a forward-scanning reader
 * (-DREADER_FORWARD) and with a backward-scanning one (-DREADER_BACKWARD). The initial tree:
 *
 *          A (root, level 1) = [ -inf -> L, 4 -> T, 6 -> R ]          (3 downlinks: full)
 *     L {1,2} [-inf,4)   T {} [4,6) (emptied)   R {7} [6,+inf)        (2 keys a leaf: L full)
 *
 * Pages 5 (M), 6 (B), 7 (G) are the inserter's stash (split.ts takes reserved pages).
 * Processes, all interleavings:
 *   INSERTER  insert(0): L splits into L {0,1} | M {2}; the downlink to M overflows A, which
 *             splits into A [L, M, T] | B [R], making T the rightmost child of its parent;
 *             A is the root, so a root split adds G [A, B]. Either split may stop after its
 *             first step (an injected error at btree-split-before-parent-insert, ENOMEM): an
 *             incomplete split, finished later by an insert whose descent meets it.
 *             Then insert(3) or insert(5) (chosen by spin): 3 lands left of T (its descent
 *             meets L's incomplete split if left so), 5 in T's key range (in T before stage 1,
 *             in R after it); 5 may then be removed again, so that T, after a scan's batch
 *             read 5 from it, can be empty, deleted and recycled before the next batch.
 *   DELETER 1 compaction deleting T: stage 1 (find the subtree parent, keep it latched from the
 *             rightmost-child check to the downlink removal, mark T HALF_DEAD), possibly
 *             interrupted there (injected error at pagedel-after-halfdead), then stage 2 (latch
 *             left sibling moving right, T, right sibling; unlink; stamp the epoch; limbo), then
 *             recycling (limboReclaim).
 *   DELETER 2 a second deleter (compaction or a remover's pagedelNoteEmpty): serialised with
 *             deleter 1 by the tree's vacuum latch; finishes T if it is half-dead (an
 *             interrupted deletion), else tries to delete T itself.
 *   READER    a full forward scan by batches, each resuming from the leaf the last one read,
 *             checked by its generation (READER_FORWARD; scan.ts resumeLeaf, with the leaf's
 *             version abstracted: a changed leaf is searched by the last key, which covers the
 *             unchanged case too), or a full backward scan stepping left with _bt_walk_left's
 *             validation (READER_BACKWARD); every batch inside an epoch, nothing held between.
 * Properties (each CHECK names its own in the trail):
 *   P1 no lost key: at the end every key inserted or initially present is in the leaf chain and
 *      found by a search from the root;
 *   P2 a scan returns every key present throughout (1, 2, 7), in order, each once;
 *   P3 no operation, inside its epoch, latches a page that was recycled (FREE);
 *   P4 no deadlock (spin's invalid end states) and at most MAX_HELD = 5 latches held at once by
 *      a thread (the vacuum latch counts);
 *   P5 at the end the tree is well formed (the verifier's quiesced checks): every downlink's
 *      child (with the right halves of its incomplete split) ends where the parent's next
 *      separator (or high key) says; no page has two downlinks; leaf links agree.
 *
 * Abstractions (bounds): keys 0..7, 7 pages, height 1 -> 2, 4 processes; internal pages hold 3
 * downlinks, leaves 2 keys, and the split points are fixed (split.ts's byte arithmetic is
 * the mutation check's business); latched reads are atomic steps (a snapshot taken while the
 * latch is held; the wait for the latch is the interleaving point), and so is the work between
 * two latch operations of one thread; a thread releasing one latch and taking the next is two
 * steps, with every other thread's steps possible in between. The optimistic descent
 * (search.ts optimisticStep) is modelled as latched reads (its version validation makes it
 * equivalent). Doomed chains above the leaf (single-child parents), the root shrink, and the
 * reuse of a recycled page are not modelled: a recycled page is marked FREE and its contents
 * scrubbed, and P3 fires if anyone inside an epoch lands on it.
 *
 * Variants (models/run.sh runs each; spin must reject every one with a counterexample):
 *   -DVARIANT_2013 releases the subtree parent between the rightmost-child check and the
 *                  downlink removal and re-finds it (the pre-2014 nbtree protocol);
 * and, to show the model is not vacuous, one fix each of the other steps removed:
 *   -DVARIANT_NO_STEP_OVER         descents do not step over half-dead and deleted pages;
 *   -DVARIANT_EPOCH_OFF_BY_ONE     a page stamped E is recycled while an operation of epoch E runs;
 *   -DVARIANT_NO_GEN_CHECK         a forward scan resumes from its last leaf without the
 *                                  generation check;
 *   -DVARIANT_NO_WALK_LEFT_CHECK   a backward scan accepts its left page without checking that
 *                                  the page's right link points back.
 */

#define NP 8          /* pages 1..7; 0 = none */
#define MAXE 4        /* internal entries per page: 3, plus room for the one that overflows */
#define CAP 3
#define INF 9         /* no high key: the rightmost page of its level */
#define XL 255        /* latch word: exclusive */
#define MAX_HELD 5    /* limits.ts MAX_LATCHES_HELD */
#define NONE 255

/* flags (page.ts) */
#define F_LEAF 1
#define F_ROOT 2
#define F_HALF 4
#define F_DEL  8
#define F_INC  16
#define F_FREE 32
#define IGNORE (F_HALF | F_DEL)

#define PA 1
#define PL 2
#define PT 3
#define PR 4
#define PL2 5
#define PA2 6
#define PG 7

#define NPROC 5      /* init + 4 */

byte flags[NP], lvl[NP], lft[NP], rgt[NP], hi[NP], keys[NP], n[NP], chain[NP], stamp[NP], gen[NP];
byte lat[NP];
byte sep[NP * MAXE], ch[NP * MAXE];
byte root = PA;
byte vacuum = 0;      /* C_VACUUM_LATCH: 0 free, else holder + 1 */
byte epoch = 1;       /* SB_EPOCH */
byte ann[NPROC];      /* TS_EPOCH per thread: 0 = idle */
byte held[NPROC];     /* latches held per thread */
byte limbo = 0;       /* bit p: page p is in limbo */
byte done = 0;
byte inserted = 0;    /* keys whose insert returned */

/* page names for the trail: A, L, T, R as drawn above; M = L's right half, B = A's, G = new root */
#define NM(p) (p == 1 -> 'A' : (p == 2 -> 'L' : (p == 3 -> 'T' : (p == 4 -> 'R' : \
    (p == 5 -> 'M' : (p == 6 -> 'B' : (p == 7 -> 'G' : '-')))))))
#define E(p, i) ((p) * MAXE + (i))
#define BIT(k) (1 << (k))

#define CHECK(c, msg) if :: !(c) -> printf(msg); assert(c) :: else -> skip fi

/* ---- latches (latch.ts). A blocking acquire is the interleaving point. ---- */
inline xlatch(pg) {
  atomic {
    lat[pg] == 0 -> lat[pg] = XL; held[me]++;
    CHECK(held[me] <= MAX_HELD, "VIOLATED P4: more than MAX_HELD latches held at once\n")
  }
}
inline xunlatch(pg) { assert(lat[pg] == XL); lat[pg] = 0; held[me]-- }
inline slatch(pg) {
  atomic {
    lat[pg] != XL -> lat[pg]++; held[me]++;
    CHECK(held[me] <= MAX_HELD, "VIOLATED P4: more than MAX_HELD latches held at once\n")
  }
}
inline sunlatch(pg) { assert(lat[pg] != XL && lat[pg] > 0); lat[pg]--; held[me]-- }
inline unlatch(pg, ex) { if :: ex -> xunlatch(pg) :: else -> sunlatch(pg) fi }

/* Inside an epoch, a page reached through a link must never be a recycled one (P3). */
#define NOT_RECYCLED(pg) CHECK((flags[pg] & F_FREE) == 0, "VIOLATED P3: an operation inside its epoch reached a recycled page\n")

/* search.ts movesRight: dead page, or key at (below: above) the high key */
#ifndef VARIANT_NO_STEP_OVER
#define MOVES_RIGHT(pg, key, below) (rgt[pg] != 0 && ((flags[pg] & IGNORE) != 0 || \
    (below && key > hi[pg]) || (!below && key >= hi[pg])))
#else
#define MOVES_RIGHT(pg, key, below) (rgt[pg] != 0 && ((below && key > hi[pg]) || (!below && key >= hi[pg])))
#endif

/* pageSearchInternal(Below): index of the downlink to follow */
inline pick(pg, key, below, idx) {
  idx = 0; i = 1;
  do
  :: i < n[pg] && ((!below && sep[E(pg, i)] <= key) || (below && sep[E(pg, i)] < key)) -> idx = i; i++
  :: i < n[pg] && !((!below && sep[E(pg, i)] <= key) || (below && sep[E(pg, i)] < key)) -> i++
  :: i >= n[pg] -> break
  od;
  i = 0
}

/* index of the downlink to child c in page pg, or NONE */
inline findChild(pg, c, idx) {
  idx = NONE; i = 0;
  do
  :: i < n[pg] && ch[E(pg, i)] == c -> idx = i; break
  :: i < n[pg] && ch[E(pg, i)] != c -> i++
  :: i >= n[pg] -> break
  od;
  i = 0
}

/* insert entry (s -> c) at index at of internal page pg (room for MAXE) */
inline entryInsert(pg, at, s, c) {
  i = n[pg];
  do
  :: i > at -> sep[E(pg, i)] = sep[E(pg, i - 1)]; ch[E(pg, i)] = ch[E(pg, i - 1)]; i--
  :: i <= at -> break
  od;
  sep[E(pg, at)] = s; ch[E(pg, at)] = c; n[pg]++;
  i = 0
}

inline entryDelete(pg, at) {
  i = at;
  do
  :: i + 1 < n[pg] -> sep[E(pg, i)] = sep[E(pg, i + 1)]; ch[E(pg, i)] = ch[E(pg, i + 1)]; i++
  :: i + 1 >= n[pg] -> break
  od;
  n[pg]--; sep[E(pg, n[pg])] = 0; ch[E(pg, n[pg])] = 0;
  i = 0
}

/* ---- splits (split.ts) ---- */

/* newRoot (G = [c, c.right]): c is the root, latched X, INCOMPLETE_SPLIT; releases c */
inline newRoot(c) {
  atomic {
    flags[PG] = F_ROOT; lvl[PG] = lvl[c] + 1; hi[PG] = INF;
    sep[E(PG, 0)] = 0; ch[E(PG, 0)] = c; sep[E(PG, 1)] = hi[c]; ch[E(PG, 1)] = rgt[c]; n[PG] = 2;
    root = PG;                                          /* under the meta latch (last in order) */
    flags[c] = flags[c] & ~(F_ROOT | F_INC);
    xunlatch(c);
    printf("INS: root split: new root G = [A, B]; A's split complete\n")
  }
}

/*
 * splitInsertParent for child c (latched X, INCOMPLETE_SPLIT): latch the parent from the descent
 * stack (stk), moving right to the page holding c's downlink, insert (c.high -> c.right); if the
 * parent overflows, split it (step 1) and climb. `mayfail`: the parent's split may stop after its
 * first step (ENOMEM), leaving it incomplete.
 */
inline splitInsertParent(c, mayfail) {
  do
  :: (flags[c] & F_ROOT) != 0 -> newRoot(c); break
  :: (flags[c] & F_ROOT) == 0 ->
     assert(lvl[c] == 0);                               /* model: only a leaf climbs to a parent */
     q = stk;
     xlatch(q);                                         /* bottom-up: child, then parent */
     do
     :: atomic {
          (flags[q] & IGNORE) == 0 -> findChild(q, c, x);
          CHECK((flags[q] & F_INC) == 0, "MODEL BOUND: the parent's own split is incomplete\n")
        };
        if
        :: x != NONE -> break
        :: else -> skip
        fi;
        r = rgt[q]; assert(r != 0); xunlatch(q); xlatch(r); q = r
     :: (flags[q] & IGNORE) != 0 -> r = rgt[q]; xunlatch(q); xlatch(r); q = r
     od;
     if
     :: n[q] < CAP ->
        atomic {
          entryInsert(q, x + 1, hi[c], rgt[c]);
          flags[c] = flags[c] & ~F_INC;
          xunlatch(c); xunlatch(q);
          printf("INS: downlink inserted into %c; the split of %c is complete\n", NM(q), NM(c))
        };
        break
     :: n[q] >= CAP ->
        atomic {
          /* the parent splits (step 1): A [e0, e1, e2] | B [e3]; keeps the 3 lowest entries */
          entryInsert(q, x + 1, hi[c], rgt[c]);
          flags[PA2] = 0; lvl[PA2] = lvl[q]; n[PA2] = 0;
          sep[E(PA2, 0)] = 0; ch[E(PA2, 0)] = ch[E(q, 3)]; n[PA2] = 1;
          hi[PA2] = hi[q]; rgt[PA2] = rgt[q]; lft[PA2] = q;
          hi[q] = sep[E(q, 3)]; sep[E(q, 3)] = 0; ch[E(q, 3)] = 0; n[q] = 3;
          rgt[q] = PA2; flags[q] = flags[q] | F_INC;
          assert(rgt[PA2] == 0);                        /* model: the parent has no right sibling */
          flags[c] = flags[c] & ~F_INC;
          xunlatch(c);
          printf("INS: parent %c overflows and splits: %c [%c %c %c] | B [%c], separator %d\n", NM(q), NM(q),
            NM(ch[E(q, 0)]), NM(ch[E(q, 1)]), NM(ch[E(q, 2)]), NM(ch[E(PA2, 0)]), hi[q])
        };
        c = q;
        if
        :: mayfail -> atomic { xunlatch(c); printf("INS: stops before the root split (ENOMEM): A's split incomplete\n") }; break
        :: true -> skip
        fi
     fi
  od
}

/* split.ts splitFinishAt: a descent for an insert met page pg with an incomplete split */
inline splitFinishAt(pg, ex) {
  printf("INS: descent meets the incomplete split of %c: finish it first\n", NM(pg));
  if
  :: !ex -> sunlatch(pg); xlatch(pg)
  :: else -> skip
  fi;
  if
  :: (flags[pg] & F_INC) == 0 -> xunlatch(pg)
  :: else -> c = pg; splitInsertParent(c, 0)
  fi
}

/*
 * search.ts descend to the leaf covering key: returns p latched (X with ex). Records the level-1
 * page passed in stk. finish: D_FINISH; below: D_BELOW.
 */
inline descend(key, below, ex, finish) {
  restart = 1;
  do
  :: restart ->
     restart = 0;
     p = root;                                          /* the meta area's root, read atomically */
     do
     :: atomic {
          lvl[p] > 0 -> slatch(p);                      /* (an optimistic read in the code) */
          NOT_RECYCLED(p);
          if
          :: finish && (flags[p] & F_INC) -> x = 1
          :: else ->
             x = 0;
             if
             :: MOVES_RIGHT(p, key, below) -> r = rgt[p]
             :: else -> pick(p, key, below, j); r = ch[E(p, j)]; j = 0; if :: lvl[p] == 1 -> stk = p :: else -> skip fi
             fi;
             sunlatch(p); p = r
          fi
        };
        if
        :: x -> x = 0; splitFinishAt(p, 0); restart = 1; break
        :: else -> skip
        fi
     :: atomic {
          lvl[p] == 0 ->
          if :: ex -> xlatch(p) :: else -> slatch(p) fi;
          NOT_RECYCLED(p);
          if
          :: finish && (flags[p] & F_INC) -> x = 1
          :: else ->
             x = 0;
             if
             :: MOVES_RIGHT(p, key, below) -> r = rgt[p]; unlatch(p, ex); p = r
             :: else -> x = 2                           /* the target: stays latched */
             fi
          fi
        };
        if
        :: x == 1 -> x = 0; splitFinishAt(p, ex); restart = 1; break
        :: x == 2 -> x = 0; break
        :: else -> skip
        fi
     od
  :: !restart -> break
  od
}

#define NKEYS(s) (((s) & 1) + (((s) >> 1) & 1) + (((s) >> 2) & 1) + (((s) >> 3) & 1) + \
    (((s) >> 4) & 1) + (((s) >> 5) & 1) + (((s) >> 6) & 1) + (((s) >> 7) & 1))

/* insert.ts btreeInsert of key k (with the leaf's split and the parent insertion) */
inline insert(k, mayfail) {
  atomic { ann[me] = epoch };                           /* epochEnter */
  descend(k, 0, 1, 1);                                  /* D_EXCLUSIVE | D_FINISH */
  if
  :: NKEYS(keys[p]) < 2 ->
     atomic { keys[p] = keys[p] | BIT(k); xunlatch(p); printf("INS: key %d inserted into %c\n", k, NM(p)) }
  :: else ->
     /* leaf split, step 1 (holding p = L): L {0,1} | M {2}, then S.left = M under S's latch */
     assert(p == PL && k == 0);                         /* model: the only leaf split */
     atomic {
       keys[PL2] = BIT(2); flags[PL2] = F_LEAF; lvl[PL2] = 0; hi[PL2] = hi[PL]; lft[PL2] = PL; rgt[PL2] = rgt[PL];
       keys[PL] = BIT(0) | BIT(1); hi[PL] = 2; r = rgt[PL]; rgt[PL] = PL2; flags[PL] = flags[PL] | F_INC;
       printf("INS: leaf L splits: L {0,1} | M {2} (incomplete: M has no downlink yet)\n")
     };
     xlatch(r);                                         /* the old right sibling, left to right */
     atomic { lft[r] = PL2; xunlatch(r) };
     if
     :: mayfail -> atomic { xunlatch(p); printf("INS: stops before the parent insertion (injected error): L's split incomplete\n") }
     :: true -> c = p; splitInsertParent(c, mayfail)
     fi
  fi;
  atomic { ann[me] = 0; inserted = inserted | BIT(k) }  /* epochExit */
}

/* remove.ts btreeRemove of key k (no page deletion of its own: the deleters do that) */
inline remove(k) {
  atomic { ann[me] = epoch };
  descend(k, 0, 1, 0);                                  /* D_EXCLUSIVE */
  atomic {
    keys[p] = keys[p] & ~BIT(k); xunlatch(p);
    ann[me] = 0; inserted = inserted & ~BIT(k);
    printf("INS: key %d removed from %c\n", k, NM(p))
  }
}

proctype Inserter(byte me) {
  byte p, q, r, c, x, i, j, stk;
  bit restart;
  insert(0, 1);
  if
  :: insert(3, 0)
  :: insert(5, 0);
     if
     :: remove(5)                                       /* T empty again: deletable after a scan read it */
     :: skip
     fi
  fi;
  done++
}

/* ---- page deletion (pagedel.ts) ---- */

/* epoch.ts limboReclaim: recycle limbo pages stamped before every announced epoch */
inline reclaim() {
  atomic {
    x = epoch; i = 0;
    do
    :: i < NPROC -> if :: ann[i] != 0 && ann[i] < x -> x = ann[i] :: else -> skip fi; i++
    :: i == NPROC -> break
    od;
    i = 0;
    if
#ifndef VARIANT_EPOCH_OFF_BY_ONE
    :: (limbo & BIT(PT)) && stamp[PT] < x && lat[PT] == 0 ->  /* latchTryExclusive */
#else
    :: (limbo & BIT(PT)) && stamp[PT] <= x && lat[PT] == 0 ->
#endif
       limbo = limbo & ~BIT(PT);
       flags[PT] = F_FREE; gen[PT]++;                   /* recycled: FREE, generation bumped */
       keys[PT] = 0; lft[PT] = 0; rgt[PT] = 0; hi[PT] = 0; /* and scrubbed (reused elsewhere) */
       printf("DEL%d: recycles T (stamp %d, oldest announced epoch %d)\n", me, stamp[PT], x)
    :: else -> skip
    fi;
    x = 0
  }
}

/* stage 2 for the half-dead leaf T (chain length 1: the last step, the leaf itself) */
inline unlinkLeaf() {
  xlatch(PT);
  if
  :: (flags[PT] & F_HALF) == 0 -> xunlatch(PT)
  :: else ->
     atomic { xunlatch(PT); q = lft[PT] };              /* latchLeftOf: the left link, read atomically */
     if
     :: q != 0 ->
        xlatch(q);
        do
        :: rgt[q] == PT -> break
        :: else ->
           atomic {
             r = rgt[q];
             CHECK(r != 0, "VIOLATED: pagedel: left sibling chain does not reach the target\n");
             xunlatch(q);
             printf("DEL%d: stage 2: left sibling %c split since: move right to %c\n", me, NM(q), NM(r))
           };
           xlatch(r); q = r
        od
     :: else -> skip
     fi;
     xlatch(PT);
     r = rgt[PT];
     xlatch(r);
     atomic {
       if :: q != 0 -> rgt[q] = r :: else -> skip fi;
       lft[r] = q;
       flags[PT] = (flags[PT] & ~F_HALF) | F_DEL;
       stamp[PT] = epoch; epoch++;                       /* epochStamp */
       xunlatch(r); xunlatch(PT); if :: q != 0 -> xunlatch(q) :: else -> skip fi;
       printf("DEL%d: stage 2: T unlinked between %c and %c, DELETED, stamped epoch %d\n", me, NM(q), NM(r), stamp[PT])
     };
     limbo = limbo | BIT(PT)                            /* limboPush */
  fi
}

/* pagedelLeaf(T): returns with nothing latched; x = 1 if stage 1 was done */
inline pagedelLeaf(interruptible) {
  atomic {
    slatch(PT);
    ok = (flags[PT] & (F_LEAF | F_FREE | IGNORE | F_ROOT | F_INC)) == F_LEAF && keys[PT] == 0 && rgt[PT] != 0;
    k = hi[PT];
    sunlatch(PT)
  };
  if
  :: ok ->
     descend(k, 1, 1, 0);                               /* D_EXCLUSIVE | D_BELOW, by T's high key */
     atomic {
       ok = p == PT && keys[PT] == 0 && (flags[PT] & (F_ROOT | F_INC | IGNORE)) == 0 && rgt[PT] != 0;
       if :: !ok -> unlatch(p, 1) :: else -> skip fi
     };
     if
     :: ok ->
        atomic {                                        /* the right sibling: not half-dead */
          r = rgt[PT]; lat[r] != XL -> ok = (flags[r] & F_HALF) == 0;
          if :: !ok -> xunlatch(PT) :: else -> skip fi
        }
     :: else -> skip
     fi;
     if
     :: ok ->
        /* findDownlink(T, level 1): from the descent stack, moving right */
        a = stk;
        xlatch(a);
        do
        :: atomic {
             (flags[a] & IGNORE) == 0 -> findChild(a, PT, x);
             if
             :: x != NONE -> ok = 1
             :: x == NONE && (rgt[a] == 0 || hi[a] >= k) -> ok = 0
             :: else -> ok = 2
             fi
           };
           if
           :: ok != 2 -> break
           :: else -> r = rgt[a]; xunlatch(a); xlatch(r); a = r
           fi
        :: (flags[a] & IGNORE) != 0 -> r = rgt[a]; xunlatch(a); xlatch(r); a = r
        od;
        if
        :: !ok -> atomic { xunlatch(a); xunlatch(PT) }
        :: ok && x == n[a] - 1 ->
           atomic {
             xunlatch(a); xunlatch(PT); ok = 0;
             printf("DEL%d: T is its parent's rightmost child: not deleted\n", me)
           }
        :: ok && x != n[a] - 1 ->
           assert(n[a] > 1);                            /* model: no single-child chain */
           printf("DEL%d: stage 1: T is not the rightmost child of %c (downlink %d of %d); %c stays latched\n", me, NM(a), x + 1, n[a], NM(a));
#ifdef VARIANT_2013
           /* pre-2014: release the parent after the check, re-find it for the downlink removal */
           atomic { xunlatch(a); printf("DEL%d: VARIANT_2013: releases the parent %c after the check\n", me, NM(a)) };
           xlatch(a);
           do
           :: atomic {
                (flags[a] & IGNORE) == 0 -> findChild(a, PT, x);
                ok = (x != NONE -> 1 : 2)
              };
              if
              :: ok == 1 -> break
              :: else -> r = rgt[a]; xunlatch(a); xlatch(r); a = r
              fi
           :: (flags[a] & IGNORE) != 0 -> r = rgt[a]; xunlatch(a); xlatch(r); a = r
           od;
           atomic {
             printf("DEL%d: VARIANT_2013: re-latches %c, T's downlink is now %d of %d\n", me, NM(a), x + 1, n[a]);
             r = rgt[PT];
             findChild(a, r, j);                        /* R's own downlink, if it is in a */
             ch[E(a, x)] = r;                           /* the key space of T goes to R ... */
             if :: j != NONE -> entryDelete(a, j) :: else -> skip fi; /* ... and R's downlink goes */
             j = 0;
#else
           atomic {
             /* still holding a: the top's downlink points at its right sibling, whose own goes */
             ch[E(a, x)] = ch[E(a, x + 1)];
             entryDelete(a, x + 1);
#endif
             flags[PT] = flags[PT] | F_HALF; chain[PT] = PT;
             xunlatch(a); xunlatch(PT);
             printf("DEL%d: stage 1 done: T's key space passed to its right sibling; T HALF_DEAD\n", me)
           };
           ok = 1
        fi
     :: else -> skip
     fi
  :: else -> skip
  fi;
  if
  :: ok && interruptible ->
     if
     :: true -> printf("DEL%d: interrupted after stage 1 (injected error): T stays half-dead\n", me)
     :: true -> unlinkLeaf()
     fi
  :: ok && !interruptible -> unlinkLeaf()
  :: else -> skip
  fi;
  ok = 0; k = 0; a = 0
}

proctype Deleter(byte me; bit second) {
  byte p, q, r, c, x, i, j, k, a, stk;
  byte ok;
  bit restart;
  atomic { vacuum == 0 -> vacuum = me + 1; held[me]++ };  /* the tree's vacuum latch, first */
  atomic { ann[me] = epoch };                           /* epochRefresh */
  if
  :: second ->
     atomic { lat[PT] != XL -> ok = (flags[PT] & F_HALF) != 0 };   /* collectLeaves(halfDead) */
     if
     :: ok -> printf("DEL%d: finds T half-dead: finishes the interrupted deletion\n", me); unlinkLeaf()
     :: else -> pagedelLeaf(0)
     fi
  :: else -> pagedelLeaf(1)
  fi;
  atomic { vacuum = 0; held[me]-- };
  atomic { ann[me] = epoch };                           /* epochRefresh, then limboReclaim */
  reclaim();
  atomic { ann[me] = 0; ok = 0; done++ }
}

/* ---- scans (scan.ts) ---- */

#define STABLE (BIT(1) | BIT(2) | BIT(7))               /* keys present for the whole run */

proctype Reader(byte me) {
  byte p, q, r, c, x, i, j, stk, last, hint, hgen, seen, orig, left, hops;
  bit restart;
#ifdef READER_FORWARD
  /* scanForward, one leaf per batch; the bindings pass the last key and the resume record back */
  last = NONE;
  do
  :: atomic { ann[me] = epoch };                        /* lk_scan: epochEnter */
     p = 0;
     if
     :: hint != 0 ->
        atomic {
          slatch(hint);
          if
#ifndef VARIANT_NO_GEN_CHECK
          :: gen[hint] == hgen && (flags[hint] & (F_LEAF | F_FREE | F_DEL)) == F_LEAF -> p = hint
#else
          :: true -> p = hint
#endif
          :: else -> sunlatch(hint); printf("RD: the resume leaf %c is stale (deleted or recycled): descend\n", NM(hint))
          fi
        }
     :: else -> skip
     fi;
     if
     :: p == 0 -> descend((last == NONE -> 0 : last), 0, 0, 0)
     :: else -> skip
     fi;
     do
     :: atomic {
          NOT_RECYCLED(p);
          if
          :: MOVES_RIGHT(p, (last == NONE -> 0 : last), 0) -> r = rgt[p]; sunlatch(p); x = 1
          :: else ->
             /* emit the keys above the last one returned, in order */
             i = 0; x = 0;
             do
             :: i < 8 && (keys[p] & BIT(i)) && (last == NONE || i > last) ->
                CHECK((seen & BIT(i)) == 0, "VIOLATED P2: a scan returned a key twice\n");
                seen = seen | BIT(i); last = i; x = 2; i++
             :: i < 8 && !((keys[p] & BIT(i)) && (last == NONE || i > last)) -> i++
             :: i == 8 -> break
             od;
             i = 0;
             if
             :: rgt[p] == 0 -> sunlatch(p); x = 3         /* the end */
             :: rgt[p] != 0 && x == 2 -> hint = p; hgen = gen[p]; sunlatch(p); x = 4 /* the resume record */
             :: rgt[p] != 0 && x == 0 -> r = rgt[p]; sunlatch(p); x = 1
             fi
          fi
        };
        if
        :: x == 1 -> slatch(r); p = r                   /* next page in this batch */
        :: x == 3 || x == 4 -> break
        fi
     od;
     atomic { ann[me] = 0 };                            /* epochExit: nothing held between batches */
     if
     :: x == 3 -> break
     :: else -> x = 0
     fi
  od;
  printf("RD: forward scan returned keys %d\n", seen);
  CHECK((seen & STABLE) == STABLE, "VIOLATED P2: a forward scan missed a key present throughout\n");
#endif
#ifdef READER_BACKWARD
  /* scanBackward: descend to the bound's leaf, take the keys below it, step left */
  last = NONE;
  do
  :: atomic { ann[me] = epoch };
     if
     :: last == NONE ->
        descend(0, 0, 0, 0);                            /* leftmost path, then right to the end */
        do
        :: atomic { rgt[p] != 0 -> r = rgt[p]; sunlatch(p) }; slatch(r); p = r; NOT_RECYCLED(p)
        :: rgt[p] == 0 -> break
        od
     :: else -> descend(last, 0, 0, 0)
     fi;
     do
     :: atomic {
          NOT_RECYCLED(p);
          i = 8; x = 0;
          do
          :: i > 0 && (keys[p] & BIT(i - 1)) && (last == NONE || i - 1 < last) ->
             CHECK((seen & BIT(i - 1)) == 0, "VIOLATED P2: a scan returned a key twice\n");
             seen = seen | BIT(i - 1); last = i - 1; x = 2; i--
          :: i > 0 && !((keys[p] & BIT(i - 1)) && (last == NONE || i - 1 < last)) -> i--
          :: i == 0 -> break
          od;
          if
          :: x == 2 -> x = (lft[p] == 0 -> 3 : 4); sunlatch(p)
          :: else -> orig = p; left = lft[p]; sunlatch(p)   /* walkLeft */
          fi
        };
        if
        :: x != 0 -> break
        :: else -> skip
        fi;
        /* walkLeft: accept the left page if its right link points back at orig */
        do
        :: left == 0 -> x = 3; break
        :: left != 0 ->
           slatch(left); q = left; NOT_RECYCLED(q);
           hops = 0;
           do
           :: atomic {
#ifndef VARIANT_NO_WALK_LEFT_CHECK
                (flags[q] & F_DEL) == 0 && rgt[q] == orig -> x = 5
#else
                true -> x = 5
#endif
              }; break
           :: atomic {
                !((flags[q] & F_DEL) == 0 && rgt[q] == orig) -> r = rgt[q];
                if
                :: r == 0 || hops >= 4 -> x = 6
                :: else -> x = 0; sunlatch(q); printf("RD: left page %c does not point back at %c: move right to %c\n", NM(q), NM(orig), NM(r))
                fi
              };
              if
              :: x == 6 -> break
              :: else -> slatch(r); q = r; NOT_RECYCLED(q); hops++
              fi
           od;
           hops = 0;
           if
           :: x == 5 -> break
           :: else ->
              sunlatch(q);
              slatch(orig);                             /* back to the page we came from */
              if
              :: (flags[orig] & F_DEL) != 0 ->
                 do
                 :: atomic { (flags[orig] & F_DEL) != 0 && rgt[orig] != 0 -> r = rgt[orig]; sunlatch(orig) };
                    slatch(r); orig = r
                 :: !((flags[orig] & F_DEL) != 0 && rgt[orig] != 0) -> break
                 od;
                 atomic { left = lft[orig]; sunlatch(orig) }
              :: else ->
                 atomic {
                   r = lft[orig]; sunlatch(orig);
                   if
                   :: r == left -> x = 1                /* nothing explains it: re-descend */
                   :: else -> left = r
                   fi
                 };
                 if :: x == 1 -> break :: else -> skip fi
              fi
           fi
        od;
        if
        :: x == 5 -> p = q; x = 0                       /* accepted: read it (latched) */
        :: x == 3 || x == 1 -> break
        fi
     od;
     atomic { ann[me] = 0 };
     if
     :: x == 3 -> break
     :: x == 4 -> x = 0
     :: x == 1 -> x = 0; printf("RD: re-descends\n")
     fi;
     orig = 0; left = 0
  od;
  printf("RD: backward scan returned keys %d\n", seen);
  CHECK((seen & STABLE) == STABLE, "VIOLATED P2: a backward scan missed a key present throughout\n");
#endif
  done++
}

/* ---- the end: the verifier's checks, quiesced ---- */

init {
  byte p, q, i, j, k, x, h, cnt, all, want;
  atomic {
    /* A = [ -inf -> L, 4 -> T, 6 -> R ] */
    flags[PA] = F_ROOT; lvl[PA] = 1; hi[PA] = INF; n[PA] = 3;
    sep[E(PA, 0)] = 0; ch[E(PA, 0)] = PL; sep[E(PA, 1)] = 4; ch[E(PA, 1)] = PT; sep[E(PA, 2)] = 6; ch[E(PA, 2)] = PR;
    flags[PL] = F_LEAF; keys[PL] = BIT(1) | BIT(2); hi[PL] = 4; rgt[PL] = PT;
    flags[PT] = F_LEAF; keys[PT] = 0; hi[PT] = 6; lft[PT] = PL; rgt[PT] = PR;
    flags[PR] = F_LEAF; keys[PR] = BIT(7); hi[PR] = INF; lft[PR] = PT;
    lvl[PA2] = 1; lvl[PG] = 2;
    run Inserter(1);
    run Deleter(2, 0);
    run Deleter(3, 1);
    run Reader(4)
  };
  (done == 4);
  d_step {
    want = STABLE | inserted;
    /* the leaf chain, from the leftmost leaf: links agree, keys strictly increasing */
    p = PL; q = 0; all = 0; k = 0;
    do
    :: p != 0 ->
       CHECK(lft[p] == q, "VIOLATED P5: a leaf's left link disagrees with its left sibling's right link\n");
       CHECK((flags[p] & (F_DEL | F_FREE)) == 0, "VIOLATED P5: a deleted page is still linked\n");
       i = 0;
       do
       :: i < 8 && (keys[p] & BIT(i)) -> CHECK((all >> i) == 0, "VIOLATED P1: leaf keys out of order\n"); all = all | BIT(i); i++
       :: i < 8 && !(keys[p] & BIT(i)) -> i++
       :: i == 8 -> break
       od;
       q = p; p = rgt[p]
    :: p == 0 -> break
    od;
    CHECK((all & want) == want, "VIOLATED P1: a key is missing from the leaf level\n");
    /* every key found by a search from the root (moving right as a search does) */
    k = 0;
    do
    :: k < 8 && (want & BIT(k)) ->
       p = root;
       do
       :: MOVES_RIGHT(p, k, 0) -> p = rgt[p]
       :: !MOVES_RIGHT(p, k, 0) && lvl[p] > 0 ->
          x = 0; i = 1;
          do
          :: i < n[p] && sep[E(p, i)] <= k -> x = i; i++
          :: i < n[p] && sep[E(p, i)] > k -> i++
          :: i >= n[p] -> break
          od;
          p = ch[E(p, x)]
       :: !MOVES_RIGHT(p, k, 0) && lvl[p] == 0 -> break
       od;
       CHECK(keys[p] & BIT(k), "VIOLATED P1: a search from the root does not find a key\n");
       k++
    :: k < 8 && !(want & BIT(k)) -> k++
    :: k == 8 -> break
    od;
    /* parents and children: each downlink's child ends where the parent says; one downlink each */
    p = 1;
    do
    :: p < NP ->
       if
       :: lvl[p] > 0 && n[p] > 0 && (flags[p] & (F_DEL | F_FREE)) == 0 ->
          i = 0;
          do
          :: i < n[p] ->
             q = ch[E(p, i)];
             h = hi[q];
             do
             :: (flags[q] & F_INC) -> q = rgt[q]; h = hi[q]
             :: !(flags[q] & F_INC) -> break
             od;
             CHECK(h == (i + 1 < n[p] -> sep[E(p, i + 1)] : hi[p]),
               "VIOLATED P5: a child's key space does not end where its parent's next separator says\n");
             i++
          :: i == n[p] -> break
          od
       :: else -> skip
       fi;
       p++
    :: p == NP -> break
    od;
    q = 1;
    do
    :: q < NP ->
       cnt = 0; p = 1;
       do
       :: p < NP ->
          if
          :: lvl[p] > 0 && (flags[p] & (F_DEL | F_FREE)) == 0 ->
             i = 0;
             do
             :: i < n[p] -> if :: ch[E(p, i)] == q -> cnt++ :: else -> skip fi; i++
             :: i == n[p] -> break
             od
          :: else -> skip
          fi;
          p++
       :: p == NP -> break
       od;
       CHECK(cnt <= 1, "VIOLATED P5: a page has two downlinks\n");
       q++
    :: q == NP -> break
    od
  }
}
