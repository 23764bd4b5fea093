# For the JMH benchmark scripts (sourced from the checkout's root): sets JDK (and JAVA_HOME), builds the
# project and gateway-core's test classes, changes into gateway-core and sets cp to the benchmarks'
# classpath.
source scripts/lib/jdk.sh
JDK=$(find_java_home) || { echo "bench: needs a JDK >= 25 (apt install temurin-25-jdk, or set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME=$JDK
bin/ublk-gateway --version > /dev/null # builds the project when needed
(cd gateway-core && mvn -B -q -o test-compile dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt \
    -Dmdep.includeScope=test > /dev/null)
cd gateway-core
cp=target/test-classes:target/classes:$(cat target/test-cp.txt)
