package dev.ublkgateway.core.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.stats.Latency;
import dev.ublkgateway.core.stats.StatsReport;
import dev.ublkgateway.core.stats.StatsSample;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "stats", description = "Counters and latencies of a device that has a `stats` stage: per op the "
        + "requests, bytes and errors since the device came up and the latency percentiles (p50, p90, p99, p99.9, max; "
        + "microseconds, within 1%%). With --watch, those of each interval alone, and its IOPS and MB/s.",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success (with --watch: --count intervals shown)",
                "1:failure: one line on stderr names the problem and the fix",
                "2:bad usage: unknown option, missing or invalid argument",
                "3:--watch: the device went away (one line on stderr says so)",
                "130:--watch: stopped by Ctrl-C (one line on stderr says so)"},
        footerHeading = "%nJSON fields (--json; one object per interval and line with --watch):%n",
        footer = {"  device, frontend (ublk|nbd), id (ublk device id; null over NBD),",
                "  block_device (/dev/ublkbN or the NBD URI), target, size_bytes,",
                "  state (LIVE|gone: whether the gateway process runs), pid, queues,",
                "  time (ISO-8601: when the gateway took the numbers),",
                "  interval_s (--watch only: the interval's length),",
                "  ops: {read|write|flush|discard|write-zeroes: {requests, bytes, errors,",
                "        iops, mb_per_s (--watch only; MB = 10^6 bytes),",
                "        latency_us: {p50, p90, p99, p99_9, max}}},",
                "  tags: {TAG: requests} (a policy script's tags; {} without one)"})
final class StatsCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(paramLabel = "NAME|ID")
    String device;

    @Option(names = "--json", description = "print JSON (fields below) instead of a table")
    boolean json;

    @Option(names = "--watch", description = "show each interval's numbers until Ctrl-C or the device goes away")
    boolean watch;

    @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
            description = "with --watch, the length of an interval in whole seconds (default: ${DEFAULT-VALUE})")
    int interval;

    @Option(names = "--count", paramLabel = "N", defaultValue = "0",
            description = "with --watch, stop after N intervals (default: until stopped)")
    long count;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (interval < 1) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--interval must be 1 or more seconds (the gateway publishes its numbers once a second)");
        }
        if (count < 0) throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--count must be 0 or more");
        StateStore states = StateStore.system();
        DeviceState s = find(states, device);
        if (!watch) {
            StatsSample total = sample(states, s);
            if (json) System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(StatsReport.totals(s, total)));
            else System.out.print(totalsTable(total));
            return 0;
        }
        var console = System.console();
        StatsWatch w = new StatsWatch(states, s, interval * 1000L, count, json,
                console != null && console.isTerminal(), System.out, System.err);
        return w.runUntilInterrupted();
    }

    static DeviceState find(StateStore states, String device) throws UblkException {
        return states.find(device).orElseThrow(() -> new UblkException("no device named " + device
                + " is up; see `ublk-gateway list`"));
    }

    /** The device's latest published numbers; none is a failure naming the fix. */
    static StatsSample sample(StateStore states, DeviceState s) throws UblkException {
        Map<String, Object> snap = states.loadStats(s.name()).orElseThrow(() -> new UblkException("device " + s.name()
                + " has no statistics; add `- type: stats` to its stages"));
        try {
            return StatsSample.from(snap);
        } catch (IllegalArgumentException e) {
            throw new UblkException("the statistics of " + s.name() + " are unreadable (" + e.getMessage()
                    + "); a gateway of this version rewrites them within a second");
        }
    }

    /** OP REQUESTS BYTES ERRORS and the percentiles: the numbers since the device came up. */
    static String totalsTable(StatsSample total) {
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-13s %12s %14s %8s %10s %10s %10s %10s %10s%n", "OP", "REQUESTS", "BYTES", "ERRORS",
                "P50_US", "P90_US", "P99_US", "P99.9_US", "MAX_US"));
        total.ops().forEach((name, op) -> {
            b.append(String.format("%-13s %12d %14d %8d", name, op.requests(), op.bytes(), op.errors()));
            percentiles(b, op);
        });
        tags(b, total);
        return b.toString();
    }

    /** OP IOPS MB/S ERRORS and the percentiles of one interval, under a line naming it. */
    static String intervalTable(DeviceState s, StatsSample earlier, StatsSample later) {
        Map<String, Object> report = StatsReport.interval(s, earlier, later);
        StatsSample d = later.since(earlier);
        StringBuilder b = new StringBuilder();
        b.append(String.format("%s  %s  interval %.1f s%n", s.name(), report.get("time"), (Double) report.get("interval_s")));
        b.append(String.format("%-13s %10s %10s %8s %10s %10s %10s %10s %10s%n", "OP", "IOPS", "MB/S", "ERRORS",
                "P50_US", "P90_US", "P99_US", "P99.9_US", "MAX_US"));
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> ops = (Map<String, Map<String, Object>>) report.get("ops");
        d.ops().forEach((name, op) -> {
            Map<String, Object> r = ops.get(name);
            b.append(String.format("%-13s %10.1f %10.2f %8d", name, (Double) r.get("iops"), (Double) r.get("mb_per_s"),
                    op.errors()));
            percentiles(b, op);
        });
        tags(b, d);
        return b.toString();
    }

    private static void percentiles(StringBuilder b, StatsSample.Op op) {
        for (double us : Latency.percentilesMicros(op.latency()).values()) b.append(String.format(" %10.1f", us));
        b.append(System.lineSeparator());
    }

    private static void tags(StringBuilder b, StatsSample s) {
        if (s.tags().isEmpty()) return;
        b.append(String.format("%nTAG (policy script)        REQUESTS%n"));
        s.tags().forEach((tag, n) -> b.append(String.format("%-26s %9d%n", tag, n)));
    }

    static void print(PrintStream out, Map<String, Object> report) throws com.fasterxml.jackson.core.JsonProcessingException {
        out.println(JSON.writeValueAsString(report));
    }
}
