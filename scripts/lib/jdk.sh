# Finds a JDK >= 25, what the build enforces (maven-enforcer-plugin in pom.xml). Sourced by
# bin/ublk-gateway and the scripts.
#   find_java_home   prints the JDK home or returns 1
# Environment: JAVA_HOME (used if recent enough), UBLKGW_JDK_SEARCH_DIRS (default /usr/lib/jvm).

readonly MIN_JAVA=25

# Major version from a version string: "25.0.3" -> 25, "22-ea" -> 22, "1.8.0_292" -> 8.
major_of() {
    local v=${1//\"/}
    [[ $v == 1.* ]] && v=${v#1.}
    v=${v%%[.+_-]*}
    [[ $v =~ ^[0-9]+$ ]] && printf '%s\n' "$v"
}

# Major version of the JDK at $1 (from its release file, else from its java), or nothing.
jdk_major() {
    local home=$1 line
    [[ -n $home && -x $home/bin/java ]] || return 0
    if [[ -r $home/release ]]; then
        line=$(grep -m1 '^JAVA_VERSION=' "$home/release" 2>/dev/null || true)
        if [[ -n $line ]]; then
            major_of "${line#JAVA_VERSION=}"
            return 0
        fi
    fi
    java_major "$home/bin/java"
}

# Major version of a java executable, from `java -version`.
java_major() {
    local line
    line=$("$1" -version 2>&1 | grep -m1 -o 'version "[^"]*"' || true)
    line=${line#version }
    [[ -n $line ]] && major_of "$line"
    return 0
}

is_recent_jdk() {
    local major
    major=$(jdk_major "$1")
    [[ -n $major && $major -ge $MIN_JAVA ]]
}

find_java_home() {
    local dir home major best="" best_major=0
    if [[ -n ${JAVA_HOME:-} ]] && is_recent_jdk "$JAVA_HOME"; then
        printf '%s\n' "$JAVA_HOME"
        return 0
    fi
    local -a dirs
    IFS=: read -r -a dirs <<< "${UBLKGW_JDK_SEARCH_DIRS-/usr/lib/jvm}"
    for dir in "${dirs[@]}"; do
        [[ -n $dir ]] || continue
        if is_recent_jdk "$dir/temurin-25-jdk-amd64"; then
            printf '%s\n' "$dir/temurin-25-jdk-amd64"
            return 0
        fi
    done
    for dir in "${dirs[@]}"; do
        [[ -n $dir ]] || continue
        for home in "$dir"/*; do
            [[ -r $home/release && -x $home/bin/java ]] || continue
            major=$(jdk_major "$home")
            if [[ -n $major && $major -ge $MIN_JAVA && $major -gt $best_major ]]; then
                best=$home
                best_major=$major
            fi
        done
    done
    if [[ -n $best ]]; then
        printf '%s\n' "$best"
        return 0
    fi
    local java
    java=$(command -v java 2>/dev/null || true)
    if [[ -n $java ]]; then
        major=$(java_major "$java")
        if [[ -n $major && $major -ge $MIN_JAVA ]]; then
            java=$(readlink -f "$java")
            printf '%s\n' "${java%/bin/java}"
            return 0
        fi
    fi
    return 1
}

