# Sourced by the VM benchmarks. The guest runs the gateway from a copy of its jars taken on the host
# before the VM starts, so sources edited meanwhile never trigger a rebuild inside the VM and one run
# measures one build.

# snapshot_jars ROOT DIR: DIR (emptied first) gets the gateway-core jar built in ROOT and its libraries;
# prints the jar's name.
snapshot_jars() {
    local jar
    jar=$(ls -t "$1"/gateway-core/target/gateway-core-*.jar 2> /dev/null \
        | grep -v -e '-tests.jar' -e '-sources.jar' -e '-javadoc.jar' | head -1)
    [[ -n $jar ]] || { echo "no gateway-core jar in $1/gateway-core/target: build it first" >&2; return 1; }
    rm -rf "$2" && mkdir -p "$2" && cp "$jar" "$1"/gateway-core/target/lib/*.jar "$2/" && basename "$jar"
}

# launcher_main_class ROOT: the main class that ROOT's bin/ublk-gateway starts.
launcher_main_class() {
    local m
    m=$(sed -n 's/^readonly MAIN_CLASS=//p' "$1/bin/ublk-gateway")
    [[ -n $m ]] || { echo "cannot read MAIN_CLASS from $1/bin/ublk-gateway" >&2; return 1; }
    echo "$m"
}
