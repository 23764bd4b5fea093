#!/usr/bin/env bash
# zstd and lz4 chunk codecs (JMH, one thread) against the zstd and lz4 command line tools' own benchmarks
# (`zstd -b`, `lz4 -b`, one thread) on the same data: 1 MiB blocks of a 64 MiB corpus of this machine's
# shared libraries (40 MiB) and documentation (24 MiB). Prints MB/s (10^6 bytes) and ratios.
#   tests/bench/codec-bench.sh [--quick]       --quick: shorter JMH runs
# Then the same per CPU second (robust to other load). Installs the zstd and lz4 tools with apt when missing. Results: plugins/compression/target/bench/.
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
source "$ROOT/scripts/lib/jdk.sh"
cd "$ROOT"
JDK=$(find_java_home) || { echo "codec-bench: needs a JDK >= 25" >&2; exit 1; }
OUT=plugins/compression/target/bench
mkdir -p "$OUT"

if ! command -v zstd >/dev/null || ! command -v lz4 >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zstd lz4 >/dev/null
fi

CORPUS=$OUT/corpus.tar
if [[ ! -s $CORPUS ]]; then
    { find /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu -maxdepth 1 -type f -name '*.so*' 2>/dev/null | sort |
          tar -cf - -T - 2>/dev/null | head -c $((40 << 20)) || true
      tar -cf - --sort=name /usr/share/doc 2>/dev/null | head -c $((24 << 20)) || true
    } >"$CORPUS"
fi
echo "corpus: $CORPUS, $(($(stat -c %s "$CORPUS") >> 20)) MiB"

# Other work on the machine skews both sides: as root, run both at the highest priority, and run the
# tools right before and right after the JMH run of the same codec.
NICE=()
[[ $(id -u) == 0 ]] && NICE=(nice -n -20)
cli() { # $1: zstd level or lz4; the tools' own benchmarks, -q: one result line
    if [[ $1 == lz4 ]]; then
        "${NICE[@]}" lz4 -b1 -B1048576 -i3 -q "$CORPUS" 2>&1 | grep -E '^-[0-9]+ ' >>"$OUT/lz4-cli.txt"
    else
        "${NICE[@]}" zstd -b"$1" -B1MiB -i3 -q "$CORPUS" 2>&1 | grep -E '^-[0-9]+ ' >>"$OUT/zstd-cli.txt"
    fi
}
rm -f "$OUT/zstd-cli.txt" "$OUT/lz4-cli.txt" "$OUT/jmh-"*.json "$OUT/jmh.txt"

JAVA_HOME=$JDK mvn -q -B -pl plugins/compression -am test-compile -DskipTests >/dev/null
JAVA_HOME=$JDK mvn -q -B -f plugins/compression dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$ROOT/$OUT/classpath" >/dev/null
CP=plugins/compression/target/test-classes:plugins/compression/target/classes:$(cat "$OUT/classpath")
JMH_ARGS=(-wi 3 -w 2 -i 5 -r 2 -f 1)
[[ ${1:-} == --quick ]] && JMH_ARGS=(-wi 2 -w 1 -i 3 -r 1 -f 1)
for codec in zstd-1 zstd-3 lz4; do
    echo "== $codec: command line tool, JMH (CodecBench), command line tool"
    level=${codec#zstd-}
    cli "$level"
    "${NICE[@]}" "$JDK/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" org.openjdk.jmh.Main CodecBench -p codec="$codec" \
        "${JMH_ARGS[@]}" -jvmArgsAppend "-Dcorpus=$ROOT/$CORPUS" -rf json -rff "$OUT/jmh-$codec.json" >>"$OUT/jmh.txt" 2>&1 \
        || { tail -30 "$OUT/jmh.txt"; exit 1; }
    cli "$level"
done
grep -E '^(zstd|lz4)[-0-9]*: .*ratio' "$OUT/jmh.txt" | sort -u >"$OUT/ratios.txt"
cat "$OUT/zstd-cli.txt" "$OUT/lz4-cli.txt"

echo "== comparison (MB/s = 10^6 bytes/s)"
python3 - "$OUT" <<'PY'
import json, re, sys
out = sys.argv[1]
jmh = {}
import glob
for r in [r for f in sorted(glob.glob(f"{out}/jmh-*.json")) for r in json.load(open(f))]:
    codec = r["params"]["codec"]; op = r["benchmark"].rsplit(".", 1)[1]
    jmh[(codec, op)] = r["primaryMetric"]["score"] * (1 << 20) / 1e6
ratio = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+): .*ratio ([0-9.]+)", open(f"{out}/ratios.txt").read(), re.M)}
cli = {}
def best(key, r, e, d): # the mean of the runs before and after
    o = cli.get(key, (r, [], []))
    o[1].append(e); o[2].append(d)
    cli[key] = o
for name, f in (("zstd", "zstd-cli.txt"), ("lz4", "lz4-cli.txt")):
    for line in open(f"{out}/{f}"):
        m = re.match(r"-(\d+)\s+\d+\s+\(x?\s*([0-9.]+)\)\s+([0-9.]+) MB/s\s+([0-9.]+) MB/s", line)
        if m: best(f"zstd-{m.group(1)}" if name == "zstd" else "lz4", float(m.group(2)), float(m.group(3)), float(m.group(4)))
print(f"{'codec':8} {'ratio':>6} {'cli':>6}   {'enc MB/s':>9} {'cli':>7} {'x':>5}   {'dec MB/s':>9} {'cli':>7} {'x':>5}")
for c in ["zstd-1", "zstd-3", "lz4"]:
    cr, ce, cd = cli.get(c, (float('nan'), [float('nan')], [float('nan')]))
    ce, cd = sum(ce) / len(ce), sum(cd) / len(cd)
    e, d = jmh.get((c, "encode"), float('nan')), jmh.get((c, "decode"), float('nan'))
    print(f"{c:8} {ratio.get(c, float('nan')):6.3f} {cr:6.3f}   {e:9.0f} {ce:7.0f} {e/ce:5.2f}   {d:9.0f} {cd:7.0f} {d/cd:5.2f}")
PY

# Wall-clock figures swing with other load; CPU time per byte much less. Same 1 MiB pieces: the Java
# codecs per CPU second of their thread, and the tools per CPU second (user time; each piece is its own
# frame with the tools' default checksums; lz4 runs once per piece, so its encode figure includes
# process start-up).
echo "== CPU time (MB/s per CPU second)"
"${NICE[@]}" "$JDK/bin/java" --enable-native-access=ALL-UNNAMED -cp "$CP" \
    dev.ublkgateway.plugins.compression.bench.CodecCpuTime "$CORPUS" 3 2>/dev/null | tee "$OUT/cpu-java.txt"
(
C=$CORPUS; T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
size=$(stat -c %s "$C")
split -b 1048576 -a 3 "$C" "$T/p."
TIMEFORMAT=%U
cpu() { # $1 repetitions, rest: command; prints user CPU seconds
    local n=$1; shift
    { time (for ((i = 0; i < n; i++)); do "$@" >/dev/null; done) ; } 2>&1
}
report() { # name reps-enc secs-enc reps-dec secs-dec stored
    awk -v s="$size" -v n="$1" -v re="$2" -v e="$3" -v rd="$4" -v d="$5" -v z="$6" \
        'BEGIN { printf "%s tool cpu-time encode %.0f MB/s decode %.0f MB/s ratio %.3f\n", n, re*s/e/1e6, rd*s/d/1e6, s/z }'
}
for lv in 1 3; do
    zstd -q -"$lv" --single-thread -c "$T"/p.* >"$T/c.zst"
    e=$(cpu 5 zstd -q -"$lv" --single-thread -c "$T"/p.*)
    d=$(cpu 10 zstd -q -d -c "$T/c.zst")
    report "zstd-$lv" 5 "$e" 10 "$d" "$(stat -c %s "$T/c.zst")"
done
lz4enc() { for f in "$@"; do lz4 -q -1 -B6 -c "$f"; done; }
lz4enc "$T"/p.* >"$T/c.lz4"
e=$(cpu 5 lz4enc "$T"/p.*)
d=$(cpu 20 lz4 -q -d -c "$T/c.lz4")
report lz4 5 "$e" 20 "$d" "$(stat -c %s "$T/c.lz4")"
) | tee "$OUT/cpu-tools.txt"
