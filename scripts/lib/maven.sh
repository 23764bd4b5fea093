# Finds the Maven to build with: an installed mvn of at least the version the build's plugins need,
# else the project's wrapper (./mvnw, which downloads the Maven that .mvn/wrapper pins). Sourced by
# bin/ublk-gateway and the scripts.
#   find_maven ROOT   prints the command (mvn or ROOT/mvnw) or returns 1
# Environment: UBLKGW_MVN (a Maven command to use as is; mainly for tests).

readonly MIN_MAVEN=3.6.3

# True when version $1 >= version $2 (dotted numbers).
version_at_least() {
    [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1) == "$2" ]]
}

find_maven() {
    local root=$1 v
    if [[ -n ${UBLKGW_MVN:-} ]]; then
        printf '%s\n' "$UBLKGW_MVN"
        return 0
    fi
    if command -v mvn >/dev/null 2>&1; then
        v=$(mvn -v 2>/dev/null | sed -n 's/\x1b\[[0-9;]*m//g; s/^Apache Maven \([0-9.]*\).*/\1/p' | head -1)
        if [[ -n $v ]] && version_at_least "$v" "$MIN_MAVEN"; then
            printf 'mvn\n'
            return 0
        fi
    fi
    if [[ -x $root/mvnw ]]; then
        printf '%s\n' "$root/mvnw"
        return 0
    fi
    return 1
}
