#!/usr/bin/env bash
# Build cost where users pay it: a typical application (tokio with macros, serde with derive,
# serde_json, reqwest with its default features and json, clap with derive, anyhow) built clean
# alone, then with google-people added and making one batch_update_contacts call, then with
# google-people1 added making the same call. The figures are the marginal costs (with minus
# alone) and ours over google-people1: clean debug build (median of ROUNDS interleaved rounds,
# paired per round), clean release build, stripped binary, crates added.
# Usage, from the project root:  bash bench/peer-side-by-side/typical-app.sh [OUTDIR]
# PROJECT (default: the git root) is the crate measured; WORK (/tmp/typical-app) is where the
# three applications are copied and built; ROUNDS (3) debug rounds, RELEASE_ROUNDS (1).
# Every build holds flock "$CPU_LOCK" (/tmp/cpu.lock). About 15 minutes on 2 cores.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PROJECT=$(cd "${PROJECT:-$(git rev-parse --show-toplevel)}" && pwd)
WORK=${WORK:-/tmp/typical-app}
ROUNDS=${ROUNDS:-3} RELEASE_ROUNDS=${RELEASE_ROUNDS:-1}
CPU_LOCK=${CPU_LOCK:-/tmp/cpu.lock}
OUT=${1:-$PROJECT/target/typical-app/$(date +%Y%m%dT%H%M%S)}
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
rm -rf "$WORK" && cp -r "$HERE/typical-app" "$WORK"
sed -i "s|@PROJECT@|$PROJECT|" "$WORK/ours/Cargo.toml"
VARIANTS=(alone ours g1)
for v in "${VARIANTS[@]}"; do (cd "$WORK/$v" && cargo fetch -q); done
{ rustc --version; nproc; for v in "${VARIANTS[@]}"; do (cd "$WORK/$v" && cargo tree -q --depth 1 -e normal); done; } > "$OUT/env.txt"

build() { # variant profile round
  local v=$1 p=$2 r=$3 flag=""
  [ "$p" = release ] && flag=--release
  (cd "$WORK/$v" && cargo clean -q && \
    flock "$CPU_LOCK" /usr/bin/time -f %e -o "$OUT/${p}_${v}_$r.secs" \
      cargo build -q --offline $flag > "$OUT/${p}_${v}_$r.log" 2>&1)
  echo "$p $v round $r: $(cat "$OUT/${p}_${v}_$r.secs") s"
}
rotate() { # round → the variants in that round's order
  local k=$(( ($1 - 1) % 3 ))
  echo "${VARIANTS[@]:$k}" "${VARIANTS[@]:0:$k}"
}
for r in $(seq 1 "$ROUNDS"); do
  for v in $(rotate "$r"); do build "$v" debug "$r"; done
done
for r in $(seq 1 "$RELEASE_ROUNDS"); do
  for v in $(rotate "$r"); do build "$v" release "$r"; done
done
for v in "${VARIANTS[@]}"; do
  bin="$WORK/$v/target/release/app-$v"
  strip -o "$OUT/app-$v.stripped" "$bin"
  stat -c %s "$OUT/app-$v.stripped" > "$OUT/size_$v.txt"
  rm "$OUT/app-$v.stripped"
  (cd "$WORK/$v" && cargo tree -q -e normal,build --prefix none --format '{p}' | sed 's/ (.*//' | sort -u) > "$OUT/crates_$v.txt"
done

python3 - "$OUT" "$ROUNDS" "$RELEASE_ROUNDS" <<'PY' | tee "$OUT/summary.md"
import statistics, sys, os
out, rounds, rrounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
secs = lambda p, v, r: float(open(os.path.join(out, f"{p}_{v}_{r}.secs")).read())
med = statistics.median
def marginal(p, n):
    per = {v: [secs(p, v, r) - secs(p, "alone", r) for r in range(1, n + 1)] for v in ("ours", "g1")}
    ratio = med([o / g for o, g in zip(per["ours"], per["g1"])]) if all(per["g1"]) else float("nan")
    return med(per["ours"]), med(per["g1"]), ratio, med([secs(p, "alone", r) for r in range(1, n + 1)])
size = lambda v: int(open(os.path.join(out, f"size_{v}.txt")).read())
crates = lambda v: set(open(os.path.join(out, f"crates_{v}.txt")).read().split("\n")) - {""}
print("| typical application | alone | + google-people | + google-people1 | ours / g1 |")
print("|---|---:|---:|---:|---:|")
for p, n in (("debug", rounds), ("release", rrounds)):
    o, g, ratio, alone = marginal(p, n)
    print(f"| marginal clean {p} build (median of {n}) | {alone:.1f} s | +{o:.1f} s | +{g:.1f} s | **{ratio:.2f}** |")
so, sg, sa = size("ours") - size("alone"), size("g1") - size("alone"), size("alone")
print(f"| marginal stripped binary | {sa/1e6:.2f} MB | +{so/1e6:.2f} MB | +{sg/1e6:.2f} MB | **{so/sg:.2f}** |")
a = crates("alone")
co, cg = sorted(crates("ours") - a), sorted(crates("g1") - a)
print(f"| crates added | {len(a)} | +{len(co)} | +{len(cg)} | **{len(co)/len(cg):.2f}** |")
print()
print("added by google-people:", ", ".join(co))
print("added by google-people1:", ", ".join(cg))
PY
echo "results in $OUT"
