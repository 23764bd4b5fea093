#!/usr/bin/env bash
# Reproducible build check: builds the current tree (tracked and untracked, not ignored files) in two
# different directories and compares the sha256 of every jar, zip and tarball the builds produce.
# Offline (the dependencies must be in ~/.m2), ~2-3 minutes on 2 cores.
#   tests/dist/reproducible.sh [--keep]
set -euo pipefail
ROOT=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
source "$ROOT/scripts/lib/jdk.sh"
source "$ROOT/scripts/lib/maven.sh"
JDK=$(find_java_home) || { echo "reproducible: needs a JDK >= 25; set JAVA_HOME" >&2; exit 1; }
MVN=$(find_maven "$ROOT") || { echo "reproducible: needs Maven (mvn) or ./mvnw" >&2; exit 1; }

WORK=$(mktemp -d /tmp/ublkgw-repro.XXXXXX)
[[ ${1:-} == --keep ]] || trap 'rm -rf "$WORK"' EXIT

build() {
    local dir=$WORK/$1
    mkdir -p "$dir"
    (cd "$ROOT" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -t "$dir")
    [[ $MVN == "$ROOT/mvnw" ]] && MVN_HERE=$dir/mvnw || MVN_HERE=$MVN
    (cd "$dir" && JAVA_HOME=$JDK "$MVN_HERE" -B -q -o -DskipTests package) > "$WORK/$1.log" 2>&1 \
        || { echo "reproducible: build $1 failed; see $WORK/$1.log" >&2; trap - EXIT; exit 1; }
    # the archives Maven made (not the dependency copies in target/lib and target/jvmci)
    (cd "$dir" && find . -path '*/target/*' \( -name '*.jar' -o -name '*.zip' -o -name '*.tar.gz' \) \
        -not -path '*/target/lib/*' -not -path '*/target/jvmci/*' -not -path '*/target/*-plugin-*/lib/*' \
        -print0 | sort -z | xargs -0 sha256sum) > "$WORK/$1.sha256"
}

build a
build b
n=$(wc -l < "$WORK/a.sha256")
((n > 0)) || { echo "reproducible: the build produced no archives" >&2; exit 1; }
if ! diff -u "$WORK/a.sha256" "$WORK/b.sha256"; then
    echo "reproducible: FAIL: the two builds differ (above)" >&2
    exit 1
fi
echo "reproducible: OK: $n archives byte-identical across two builds"
