package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.targets.MemoryTarget;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Files;
import java.util.concurrent.Callable;

@Command(name = "down", description = "Stop a device: its gateway flushes, stops and deletes it. A device "
        + "left by a crashed gateway is deleted directly.")
final class DownCommand implements Callable<Integer> {
    @Mixin
    DeviceRef device;

    @Override
    public Integer call() throws Exception {
        // NBD devices are the caller's own processes; ublk devices need root
        StateStore states = StateStore.system();
        DeviceState s = device.state(states).orElse(null);
        if (s == null) {
            if (device.isId()) {
                Common.requireRoot("down");
                return deleteOrphan(Integer.parseInt(device.text));
            }
            throw device.unknown("up");
        }
        if (!s.servedOverNbd()) Common.requireRoot("down");
        if (StateStore.alive(s.pid())) {
            Libc.kill((int) s.pid(), Libc.SIGTERM);
            ProcessHandle ph = ProcessHandle.of(s.pid()).orElse(null);
            long deadline = System.nanoTime() + 300_000_000_000L;
            while (ph != null && ph.isAlive() && states.load(s.name()).isPresent() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (states.load(s.name()).isPresent() && StateStore.alive(s.pid())) {
                throw new UblkException("gateway pid " + s.pid() + " did not stop " + s.name() + " within 300 s");
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

    private int deleteOrphan(int id) throws Exception {
        try (UblkControl c = UblkControl.open()) {
            stopAndDelete(c, id);
        }
        System.out.println("device " + id + ": removed");
        return 0;
    }

    private static void stopAndDelete(UblkControl c, int id) throws UblkException {
        try {
            c.stopDev(id);
        } catch (UblkException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.ENODEV) {
                throw new UblkException("there is no ublk device " + id, e.errno());
            }
            // already stopped: deleting is what is left
        }
        c.delDev(id);
    }
}
