package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.stats.StatsReport;
import dev.ublkgateway.core.stats.StatsSample;

import java.io.PrintStream;
import java.util.Optional;

/**
 * `stats --watch`: every interval, the numbers of that interval alone, as the difference of two
 * snapshots the gateway published. An interval ends at the first snapshot taken at least an interval
 * after the one that began it, and after the previous interval was shown, so no request is missed or
 * counted twice. On a terminal each interval's table replaces the last; otherwise (and with JSON)
 * they follow one another.
 */
final class StatsWatch {
    static final int GONE = 3, INTERRUPTED = 130;
    private static final long POLL_MS = 100;

    private final StateStore states;
    private final DeviceState device;
    private final long intervalMs, count;
    private final boolean json, redraw;
    private final PrintStream out, err;
    private volatile boolean stopped;
    private int shownLines;

    StatsWatch(StateStore states, DeviceState device, long intervalMs, long count, boolean json, boolean redraw,
               PrintStream out, PrintStream err) {
        this.states = states;
        this.device = device;
        this.intervalMs = intervalMs;
        this.count = count;
        this.json = json;
        this.redraw = redraw && !json;
        this.out = out;
        this.err = err;
    }

    /**
     * {@link #run} with Ctrl-C handled: the JVM then exits with 130 after one line on stderr and
     * without a half-drawn table.
     */
    int runUntilInterrupted() throws Exception {
        Thread watcher = Thread.currentThread();
        Thread hook = new Thread(() -> {
            stopped = true;
            watcher.interrupt();
            try {
                watcher.join(1000);
            } catch (InterruptedException ignored) {
                // exiting anyway
            }
            err.println("ublk-gateway: stopped watching " + device.name());
        }, "stats-watch-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return run();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it prints the line
            }
        }
    }

    /**
     * Shows intervals until {@code count} were shown or the output is closed (0), the device goes away
     * ({@link #GONE}) or Ctrl-C ({@link #INTERRUPTED}).
     */
    int run() throws Exception {
        StatsSample prev = StatsCommand.sample(states, device);
        for (long n = 0; count == 0 || n < count; n++) {
            // strictly after now: a snapshot taken after everything that happened while the last interval was shown
            long due = Math.max(prev.timeMs() + intervalMs, System.currentTimeMillis() + 1);
            Optional<StatsSample> next;
            try {
                next = awaitSample(due);
            } catch (InterruptedException e) {
                if (stopped) return INTERRUPTED;
                throw e;
            }
            if (next.isEmpty()) {
                err.println("ublk-gateway: device " + device.name() + " went away; stopped watching");
                return GONE;
            }
            if (stopped) return INTERRUPTED;
            if (!show(prev, next.get())) return 0; // whoever read the output (`| head`) is gone
            prev = next.get();
        }
        return 0;
    }

    /** The first snapshot taken at {@code due} or later; empty once the device or its gateway is gone. */
    private Optional<StatsSample> awaitSample(long due) throws InterruptedException {
        Thread.sleep(Math.max(0, due - System.currentTimeMillis()));
        while (true) {
            Optional<DeviceState> s = states.find(device.name());
            if (s.isEmpty() || s.get().pid() != device.pid() || !StateStore.alive(device.pid())) return Optional.empty();
            var snap = states.loadStats(device.name());
            if (snap.isEmpty()) return Optional.empty();
            StatsSample sample = StatsSample.from(snap.get());
            if (sample.timeMs() >= due || sample.timeMs() == 0) return Optional.of(sample); // 0: an older gateway's
            if (stopped) throw new InterruptedException();
            Thread.sleep(POLL_MS);
        }
    }

    /** Prints one interval; false once the output cannot be written any more. */
    private boolean show(StatsSample prev, StatsSample next) throws Exception {
        if (json) {
            StatsCommand.print(out, StatsReport.interval(device, prev, next));
            out.flush(); // each line as it comes, also into a pipe
            return !out.checkError();
        }
        String table = StatsCommand.intervalTable(device, prev, next);
        if (redraw && shownLines > 0) {
            // back to the first line of the last table, and clear from there down
            out.print("\033[" + shownLines + "A\033[J");
        }
        out.print(table);
        if (!redraw) out.println();
        out.flush();
        shownLines = (int) table.lines().count();
        return !out.checkError();
    }
}
