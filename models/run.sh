#!/usr/bin/env bash
# Model-checks both protocols with spin (models/README.md): every model as it is must pass an
# exhaustive search; every variant with a fix removed must be rejected with a counterexample,
# whose steps are printed in words. Exit status 0 only if all of that holds.
#
#   models/run.sh            all models and variants
#   models/run.sh pagedel    only the configurations whose name starts with "pagedel"
#
# Needs spin (Debian: apt-get install -y spin) and gcc. Bounded: at most JOBS verifiers at once
# (LATCHKEY_SPIN_JOBS; default the cores, no more than the memory holds at MEMLIM each), MEMLIM
# (MB) caps each, and a search that does not complete (memory or depth) counts as a failure,
# never as a pass. The longest searches start first. The verifier is compiled with -O0: -O2
# speeds the search by about a fifth and costs as much in compile time.
set -u
cd "$(dirname "$0")"
MODELS=$(pwd)
MEMLIM=${LATCHKEY_SPIN_MEMLIM:-3000}
DEPTH=1000000
FILTER=${1:-}

if ! command -v spin >/dev/null 2>&1; then
  echo "models/run.sh: spin is not installed (Debian/Ubuntu: apt-get install -y spin)" >&2
  exit 2
fi
CORES=$(nproc 2>/dev/null || echo 1)
MEM_MB=$(awk '/MemAvailable/ { print int($2 / 1024) }' /proc/meminfo 2>/dev/null || echo "$MEMLIM")
FIT=$(( MEM_MB / MEMLIM )); (( FIT < 1 )) && FIT=1
JOBS=${LATCHKEY_SPIN_JOBS:-$(( CORES < FIT ? CORES : FIT ))}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/latchkey-models.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# name | model | macros | expect (pass: exhaustive, no error; fail: spin must find a counterexample)
CONFIGS=(
  "pagedel-forward|pagedel.pml|-DREADER_FORWARD|pass"
  "pagedel-backward|pagedel.pml|-DREADER_BACKWARD|pass"
  "pagedel-2013|pagedel.pml|-DREADER_FORWARD -DVARIANT_2013|fail"
  "pagedel-no-step-over|pagedel.pml|-DREADER_FORWARD -DVARIANT_NO_STEP_OVER|fail"
  "pagedel-epoch-off-by-one|pagedel.pml|-DREADER_FORWARD -DVARIANT_EPOCH_OFF_BY_ONE|fail"
  "pagedel-no-gen-check|pagedel.pml|-DREADER_FORWARD -DVARIANT_NO_GEN_CHECK|fail"
  "pagedel-no-walk-left-check|pagedel.pml|-DREADER_BACKWARD -DVARIANT_NO_WALK_LEFT_CHECK|fail"
  "roles|roles.pml||pass"
  "roles-wt|roles.pml|-DVARIANT_WT|fail"
  "roles-read-first|roles.pml|-DVARIANT_READ_FIRST|fail"
  "roles-no-drain|roles.pml|-DVARIANT_NO_DRAIN|fail"
)

# One configuration, in its own directory: its report goes to report, its summary row to row.
check() {
  local name=$1 model=$2 macros=$3 expect=$4 dir="$WORK/$1"
  local verdict states errors incomplete start secs
  mkdir -p "$dir"
  cp "$MODELS/$model" "$dir/"
  exec >"$dir/report" 2>&1
  # shellcheck disable=SC2086
  if ! (cd "$dir" && spin -a $macros "$model" >spin.out 2>&1 && gcc -O0 -w -DMEMLIM="$MEMLIM" -DCOLLAPSE -o pan pan.c >gcc.out 2>&1); then
    echo "== $name: spin/gcc failed"; cat "$dir/spin.out" "$dir/gcc.out" 2>/dev/null | head -20
    echo "$name|$expect|BUILD FAILED|-|-" >"$dir/row"; return
  fi
  start=$(date +%s.%N)
  (cd "$dir" && ./pan -m"$DEPTH" >pan.out 2>&1)
  secs=$(printf '%.1f' "$(echo "$(date +%s.%N) - $start" | bc)")
  states=$(grep -Eo '^ *[0-9]+ states, stored' "$dir/pan.out" | grep -Eo '[0-9]+' | head -1)
  errors=$(grep -Eo 'errors: [0-9]+' "$dir/pan.out" | grep -Eo '[0-9]+' | head -1)
  incomplete=$(grep -cE 'Search not completed|max search depth too small|out of memory' "$dir/pan.out")
  if [[ "$expect" == pass ]]; then
    if [[ "${errors:-1}" == 0 && "$incomplete" == 0 ]]; then
      verdict="passed (exhaustive)"
    else
      verdict="FAILED"
      echo "== $name: expected an exhaustive search without errors"
      grep -E 'error|violated|not completed|too small|memory' "$dir/pan.out" | head -10
      if [[ -f "$dir/$model.trail" ]]; then
        # shellcheck disable=SC2086
        (cd "$dir" && spin -t -T $macros "$model" 2>&1 | grep -E '^(T[0-9]|INS|DEL|RD|VIOLATED|MODEL)' | sed 's/^/    /')
      fi
    fi
  else
    if [[ "${errors:-0}" -ge 1 && -f "$dir/$model.trail" ]]; then
      verdict="rejected (counterexample)"
      echo "== $name ($macros): spin's counterexample, step by step:"
      # The model's own printf lines, replayed from the trail: each is one step of one thread.
      # shellcheck disable=SC2086
      (cd "$dir" && spin -t -T $macros "$model" 2>&1 | grep -E '^(T[0-9]|INS|DEL|RD|VIOLATED|MODEL)' | sed 's/^/    /')
      if grep -q 'MODEL BOUND' <(cd "$dir" && spin -t -T $macros "$model" 2>&1); then
        verdict="FAILED (hit a model bound, not the race)"
      fi
    else
      verdict="FAILED: not rejected"
      echo "== $name: the variant with a fix removed was NOT rejected"
    fi
  fi
  echo "$name|$expect|$verdict|${states:-?}|${secs}s" >"$dir/row"
}

# The exhaustive passes take most of the time: start them first.
selected=()
for cfg in "${CONFIGS[@]}"; do
  IFS='|' read -r name _ _ expect <<<"$cfg"
  [[ -n "$FILTER" && "$name" != "$FILTER"* ]] && continue
  [[ "$expect" == pass ]] && selected+=("$cfg")
done
for cfg in "${CONFIGS[@]}"; do
  IFS='|' read -r name _ _ expect <<<"$cfg"
  [[ -n "$FILTER" && "$name" != "$FILTER"* ]] && continue
  [[ "$expect" != pass ]] && selected+=("$cfg")
done
echo "models/run.sh: ${#selected[@]} configurations, $JOBS at a time"
running=0
for cfg in "${selected[@]}"; do
  IFS='|' read -r name model macros expect <<<"$cfg"
  if (( running >= JOBS )); then wait -n; running=$((running - 1)); fi
  check "$name" "$model" "$macros" "$expect" &
  running=$((running + 1))
done
wait

status=0
summary=()
for cfg in "${CONFIGS[@]}"; do
  IFS='|' read -r name _ _ _ <<<"$cfg"
  [[ -n "$FILTER" && "$name" != "$FILTER"* ]] && continue
  cat "$WORK/$name/report" 2>/dev/null
  row=$(cat "$WORK/$name/row" 2>/dev/null || echo "$name|?|FAILED: no result|-|-")
  [[ "$row" == *"|passed (exhaustive)|"* || "$row" == *"|rejected (counterexample)|"* ]] || status=1
  summary+=("$row")
done

echo
printf '%-28s %-7s %-28s %12s %8s\n' "model" "expect" "result" "states" "time"
for row in "${summary[@]}"; do
  IFS='|' read -r a b c d e <<<"$row"
  printf '%-28s %-7s %-28s %12s %8s\n' "$a" "$b" "$c" "$d" "$e"
done
if [[ ${#summary[@]} -eq 0 ]]; then echo "no configuration matches '$FILTER'"; exit 2; fi
exit $status
