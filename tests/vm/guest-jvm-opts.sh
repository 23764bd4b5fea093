#!/usr/bin/env bash
# Prints the JVM options for JVMs started inside the VM test bed (for JAVA_TOOL_OPTIONS), creating
# the AOT cache they name when it is missing or older than the launcher's jars.
#
#   tests/vm/guest-jvm-opts.sh LAUNCHER
#
# JVM start-up dominates under TCG: every CLI call and gateway is a fresh JVM. C1 only and an AOT
# cache of the classes a CLI call loads (trained here, on the host, with the same launcher and jar
# paths the guest sees) bring `up` of a memory device from about 70 s to 25-35 s.
# The cache holds class data only: JDK 25 would also store machine code (adapters, stubs) generated
# for this host's CPU, and the guest's emulated CPU lacks some of its instructions (AVX-512): a JVM
# running such code in the guest dies of SIGILL, depending on which adapters it happens to use.
# The guest's JVMs must run with UBLKGW_SCRIPT_JIT=0 (the cache is trained without JVMCI's module
# set-up; a JVM whose module set-up differs ignores the cache, and runs slower, not wrongly).
set -euo pipefail
gw=$(readlink -f "${1:?usage: guest-jvm-opts.sh LAUNCHER}")
root=$(dirname "$(dirname "$gw")")
opts="-XX:TieredStopAtLevel=1 -XX:+UnlockDiagnosticVMOptions -XX:-AOTAdapterCaching -XX:-AOTStubCaching"
aot=$root/gateway-core/target/guest-cli.aot

newest_jar=$(ls -t "$root"/gateway-core/target/*.jar "$root"/gateway-core/target/lib/*.jar 2> /dev/null | head -1)
if [[ ! -s $aot || -z $newest_jar || $newest_jar -nt $aot ]]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    printf 'devices:\n  - {name: a, size: 1GiB, queues: 2, depth: 64, recovery: true, target: {type: memory}}\n  - {name: b, size: 1GiB, stages: [{type: stats}], target: {type: null}}\n  - {name: c, size: 1GiB, max-io-size: 1MiB, target: {type: file, path: c.img, direct: true, sync: fsync, create: true}}\n' > "$work/train.yaml"
    if ! UBLKGW_SCRIPT_JIT=0 JAVA_TOOL_OPTIONS="$opts -XX:AOTCacheOutput=$aot.tmp.$$" "$gw" validate "$work/train.yaml" > "$work/training.log" 2>&1 \
        || [[ ! -s $aot.tmp.$$ ]]; then
        echo "guest-jvm-opts: could not create the AOT cache; guest JVMs start without it:" >&2
        tail -3 "$work/training.log" >&2
        rm -f "$aot.tmp.$$"
        echo "$opts"
        exit 0
    fi
    mv "$aot.tmp.$$" "$aot"
fi
echo "$opts -XX:AOTCache=$aot"
