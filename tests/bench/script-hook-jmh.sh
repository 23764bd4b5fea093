#!/usr/bin/env bash
# Benchmark (not a test): JMH per-call cost of a policy hook once warm (ScriptHookBench in
# gateway-core's tests), with GraalJS interpreted (stock JDK) and with the Graal JIT (JVMCI, set up as
# bin/ublk-gateway does for `up`). Prints JMH's table for each mode.
#
#   tests/bench/script-hook-jmh.sh [JMH OPTIONS...]     (default: -wi 5 -w 2 -i 5 -r 2 -f 1)
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
cd "$ROOT"
opts=("$@")
((${#opts[@]})) || opts=(-wi 5 -w 2 -i 5 -r 2 -f 1)
source scripts/lib/jmh.sh # JDK, the build, cd gateway-core, cp
common=(--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -Djmh.ignoreLock=true)

echo "== GraalJS interpreted (stock JDK, no JVMCI)"
"$JDK/bin/java" "${common[@]}" -Dpolyglot.engine.WarnInterpreterOnly=false -cp "$cp" \
    org.openjdk.jmh.Main ScriptHookBench "${opts[@]}" -jvmArgsAppend "-Dpolyglot.engine.WarnInterpreterOnly=false" \
    | sed -n '/^Benchmark/,$p'

jvmci_jar=$(compgen -G "target/jvmci/compiler-*.jar" | head -1 || true)
if [[ -z $jvmci_jar ]] || ! grep -q 'jdk.internal.vm.ci' "$JDK/release"; then
    echo "== Graal JIT: skipped (no target/jvmci compiler jar or no JVMCI in $JDK)"
    exit 0
fi
gv=${jvmci_jar##*/compiler-}
gv=${gv%.jar}
upgrade=$jvmci_jar modules="" classpath=""
for j in ${cp//:/ }; do
    case ${j##*/} in
        collections-"$gv".jar | word-"$gv".jar | truffle-compiler-"$gv".jar) upgrade+=":$j" ;;
        *-"$gv".jar) modules+="${modules:+:}$j" ;;
        *) classpath+="${classpath:+:}$j" ;;
    esac
done
jit=(-XX:+UnlockExperimentalVMOptions -XX:+EnableJVMCI "--upgrade-module-path=$upgrade" "--module-path=$modules"
    --add-modules=org.graalvm.polyglot --enable-native-access=org.graalvm.truffle)
echo "== Graal JIT (JVMCI, compiler $gv)"
# the forked benchmark JVM inherits these options from this one
"$JDK/bin/java" "${common[@]}" "${jit[@]}" -cp "$classpath" org.openjdk.jmh.Main ScriptHookBench "${opts[@]}" \
    | sed -n '/^Benchmark/,$p'
