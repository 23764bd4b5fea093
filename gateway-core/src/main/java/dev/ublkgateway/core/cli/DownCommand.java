package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.targets.MemoryTarget;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.frontend.ublk.Unprivileged;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.core.runtime.ProgressFile;

import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "down", description = "Stop a device: its gateway flushes, stops and deletes it. A device "
        + "left by a crashed gateway is deleted directly.")
final class DownCommand implements Callable<Integer> {
    /** How long down waits for a gateway that neither stops nor reports flush progress. */
    static final long STALL_SECONDS = 300;

    @Mixin
    DeviceRef device;

    @Override
    public Integer call() throws Exception {
        // the run directory holds the caller's own devices; for any other the kernel checks who may remove it
        StateStore states = StateStore.system();
        DeviceState s = device.state(states).orElse(null);
        if (s == null) {
            if (device.isId()) return deleteOrphan(Integer.parseInt(device.text));
            throw device.unknown("up");
        }
        if (StateStore.alive(s.pid())) {
            // the gateway stops every device it serves, so down follows the flushes of all of them
            List<String> served = states.all().stream().filter(o -> o.pid() == s.pid()).map(DeviceState::name).toList();
            if (!served.contains(s.name())) served = List.of(s.name());
            long since = System.currentTimeMillis();
            OperationWatch flush = new OperationWatch(states.dir(),
                    op -> op.operation().equals(ProgressReporter.FLUSH) && op.startedAt() >= since, label -> null);
            Libc.kill((int) s.pid(), Libc.SIGTERM);
            boolean stopped = awaitStop(s, states, served, flush, Progress.onStdout(s.name() + ": flushing"));
            for (String d : served) ProgressFile.remove(states.dir(), d); // read: its outcome is told below
            if (!stopped) {
                throw new UblkException("gateway pid " + s.pid() + " made no progress stopping " + s.name() + " for "
                        + STALL_SECONDS + " s; see its log " + states.logFile(s.name()));
            }
            if (!flush.failures().isEmpty()) {
                System.err.println(s.name() + ": stopped, but not all data was stored: " + String.join("; ", flush.failures())
                        + " (log: " + states.logFile(s.name()) + ")");
                return 1;
            }
        } else if (s.servedOverNbd()) {
            states.remove(s.name()); // an NBD export ends with its gateway: only the state is left
            Files.deleteIfExists(MemoryTarget.defaultFile(s.name()));
        } else {
            try (UblkControl c = UblkControl.open()) {
                stopAndDelete(c, s.devId());
            }
            states.remove(s.name());
            Files.deleteIfExists(MemoryTarget.defaultFile(s.name()));
        }
        System.out.println(s.name() + ": removed " + s.blockDevice());
        return 0;
    }

    /**
     * Waits for the gateway process to end, showing the bytes its flushes have left (published in the run
     * directory); false when it still serves the device after {@link #STALL_SECONDS} without progress (its store
     * calls end within their retry policy's time).
     */
    private static boolean awaitStop(DeviceState s, StateStore states, List<String> served, OperationWatch flush,
                                     Progress progress) throws InterruptedException {
        ProcessHandle ph = ProcessHandle.of(s.pid()).orElse(null);
        long lastChange = System.nanoTime();
        // the process's exit, not the state file's removal, ends the wait: the flush outcome comes last
        while (ph != null && ph.isAlive()) {
            Thread.sleep(50);
            if (flush.poll(served)) {
                lastChange = System.nanoTime();
                if (flush.seen().stream().anyMatch(o -> o.op().running())) {
                    long total = flush.seen().stream().filter(o -> o.op().running()).mapToLong(o -> o.op().total()).sum();
                    progress.left(total, flush.left());
                }
            }
            if (System.nanoTime() - lastChange > STALL_SECONDS * 1_000_000_000L) return states.load(s.name()).isEmpty();
        }
        flush.poll(served);
        if (!flush.seen().isEmpty()) {
            progress.finish(s.name() + ": " + (flush.failures().isEmpty() ? "flushed all data" : "flush failed"));
        }
        return true;
    }

    private int deleteOrphan(int id) throws Exception {
        try (UblkControl c = UblkControl.open()) {
            stopAndDelete(c, id);
        }
        System.out.println("device " + id + ": removed");
        return 0;
    }

    private static void stopAndDelete(UblkControl c, int id) throws UblkException {
        try {
            c.devInfo(id); // tells root whether a user created it: then its commands name its char device
            c.stopDev(id);
        } catch (UblkException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV) {
                throw new UblkException("there is no ublk device " + id, e.errno());
            }
            if (c.unprivileged() && (e.errno() == Errno.EACCES || e.errno() == Errno.EPERM)) {
                throw new UblkException(Unprivileged.notYours(id, "down"), e.errno());
            }
            // already stopped: deleting is what is left
        }
        c.delDev(id);
    }
}
