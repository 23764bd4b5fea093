#!/usr/bin/env bash
# S3Proxy (org.gaul:s3proxy from Maven Central), an S3 server for tests and benchmarks, on 127.0.0.1.
#   scripts/s3proxy.sh classpath            print its class path (resolved with Maven once, then cached)
#   scripts/s3proxy.sh run DIR [PORT]       serve DIR in the foreground (Ctrl-C stops it)
#   scripts/s3proxy.sh start DIR [PORT]     serve DIR in the background; prints "PID ENDPOINT" once it answers
#   scripts/s3proxy.sh stop PID             stop a server started with `start`
# Each directory under DIR is a bucket (`mkdir DIR/NAME` creates one). PORT defaults to 9000.
# Environment: S3PROXY_IDENTITY / S3PROXY_CREDENTIAL (default test-access / test-secret: the access key
# id and secret access key clients sign with), S3PROXY_STORAGE (filesystem-nio2, the default, or
# transient for memory), S3PROXY_VERSION (default 2.6.0), S3PROXY_START_TIMEOUT (seconds `start` waits
# for it to answer, default 60). The log is DIR.log (warnings only; with S3PROXY_LOG_REQUESTS=1 also a line
# "request: Request(METHOD URL)" per request, which benchmarks count).
set -euo pipefail
ROOT=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
source "$ROOT/scripts/lib/jdk.sh"

VERSION=${S3PROXY_VERSION:-2.6.0}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/ublk-gateway/s3proxy-$VERSION

die() { echo "s3proxy: $*" >&2; exit 1; }

classpath() {
    if [[ ! -s $CACHE/classpath ]] || ! tr ':' '\n' <"$CACHE/classpath" | xargs -r ls >/dev/null 2>&1; then
        local jdk
        jdk=$(find_java_home) || die "needs a JDK >= 25 to run Maven; install Temurin 25 or set JAVA_HOME"
        command -v mvn >/dev/null || die "needs Maven (apt install maven) to download S3Proxy"
        mkdir -p "$CACHE"
        cat >"$CACHE/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>s3proxy-runner</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.gaul</groupId><artifactId>s3proxy</artifactId><version>$VERSION</version></dependency>
  </dependencies>
</project>
POM
        JAVA_HOME=$jdk mvn -q -B -f "$CACHE/pom.xml" dependency:build-classpath \
            -Dmdep.outputFile="$CACHE/classpath.tmp" -Dmdep.includeScope=runtime >"$CACHE/mvn.log" 2>&1 \
            || die "Maven could not download org.gaul:s3proxy:$VERSION; see $CACHE/mvn.log"
        mv "$CACHE/classpath.tmp" "$CACHE/classpath"
    fi
    cat "$CACHE/classpath"
}

# Writes DIR.properties and DIR.logback.xml; prints the java command line, one word per line.
command_line() {
    local dir=$1 port=$2 cp jdk
    cp=$(classpath)
    jdk=$(find_java_home) || die "needs a JDK >= 25"
    mkdir -p "$dir"
    dir=$(readlink -f "$dir")
    cat >"$dir.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$port
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=${S3PROXY_IDENTITY:-test-access}
s3proxy.credential=${S3PROXY_CREDENTIAL:-test-secret}
jclouds.provider=${S3PROXY_STORAGE:-filesystem-nio2}
jclouds.identity=local
jclouds.credential=local
jclouds.filesystem.basedir=$dir
PROPS
    # without a configuration logback logs everything at DEBUG to the console
    cat >"$dir.logback.xml" <<XML
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$dir.log</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} %msg%n</pattern></encoder>
  </appender>
  $([[ ${S3PROXY_LOG_REQUESTS:-0} == 1 ]] && echo '<logger name="org.gaul.s3proxy.S3ProxyHandler" level="DEBUG"/>')
  <root level="WARN"><appender-ref ref="FILE"/></root>
</configuration>
XML
    printf '%s\n' "$jdk/bin/java" "-Dlogback.configurationFile=$dir.logback.xml" -cp "$cp" \
        org.gaul.s3proxy.Main --properties "$dir.properties"
}

wait_ready() {
    local port=$1 pid=$2 i
    for ((i = 0; i < ${S3PROXY_START_TIMEOUT:-60} * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

case ${1:-} in
    classpath) classpath ;;
    run)
        [[ $# -ge 2 ]] || die "usage: s3proxy.sh run DIR [PORT]"
        mapfile -t cmd < <(command_line "$2" "${3:-9000}")
        [[ ${#cmd[@]} -gt 1 ]] || exit 1
        exec "${cmd[@]}"
        ;;
    start)
        [[ $# -ge 2 ]] || die "usage: s3proxy.sh start DIR [PORT]"
        port=${3:-9000}
        mapfile -t cmd < <(command_line "$2" "$port")
        [[ ${#cmd[@]} -gt 1 ]] || exit 1
        dir=$(readlink -f "$2")
        nohup "${cmd[@]}" >>"$dir.log" 2>&1 </dev/null &
        pid=$!
        wait_ready "$port" "$pid" || die "did not start on 127.0.0.1:$port; see $dir.log"
        echo "$pid http://127.0.0.1:$port"
        ;;
    stop)
        [[ $# -eq 2 ]] || die "usage: s3proxy.sh stop PID"
        kill "$2" 2>/dev/null || true
        ;;
    *) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
