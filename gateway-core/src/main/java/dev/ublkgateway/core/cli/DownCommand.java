package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.targets.MemoryTarget;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.frontend.ublk.Uapi;
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

    @picocli.CommandLine.Option(names = "--force", description = "stop the device even while it is open or mounted "
            + "(its users then get I/O errors); without it, kernels with safe stop refuse a busy device")
    boolean force;

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
            List<DeviceState> servedStates = states.all().stream().filter(o -> o.pid() == s.pid()).toList();
            List<String> served = servedStates.stream().map(DeviceState::name).toList();
            if (!served.contains(s.name())) {
                served = List.of(s.name());
                servedStates = List.of(s);
            }
            if (!force && !s.servedOverNbd()) stopIfUnused(s, servedStates);
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

    /**
     * On kernels with safe stop (UBLK_F_SAFE_STOP_DEV) stops the device only if nothing has it open, else
     * refuses in one line: who uses it. Its gateway then finds it stopped and deletes it as usual.
     * Retried briefly: udev probes a new device for a moment.
     */
    private static void stopIfUnused(DeviceState s, List<DeviceState> served) throws Exception {
        java.nio.file.Path proc = java.nio.file.Path.of("/proc"), sys = java.nio.file.Path.of("/sys");
        try (UblkControl c = UblkControl.open()) {
            if ((c.features() & Uapi.F_SAFE_STOP_DEV) == 0) return;
            // the gateway's other devices go too: one that is visibly in use refuses before any stops
            for (DeviceState o : served) {
                String users = BlockUsers.describe(o.blockDevice(), proc, sys);
                if (!o.name().equals(s.name()) && !o.servedOverNbd() && !users.startsWith("open by")) {
                    throw new UblkException("device busy: " + o.name() + " (served by the same gateway) is " + users
                            + "; umount first or use --force");
                }
            }
            tryStop(c, s, proc, sys);
            for (DeviceState o : served) {
                if (!o.name().equals(s.name()) && !o.servedOverNbd()) tryStop(c, o, proc, sys);
            }
        }
    }

    private static void tryStop(UblkControl c, DeviceState s, java.nio.file.Path proc, java.nio.file.Path sys) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                c.tryStopDev(s.devId());
                return;
            } catch (UblkException e) {
                if (e.errno() != Errno.EBUSY) throw e;
                if (attempt >= 4) {
                    throw new UblkException("device busy: " + BlockUsers.describe(s.blockDevice(), proc, sys)
                            + "; umount first or use --force", e.errno());
                }
                Thread.sleep(200);
            }
        }
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
