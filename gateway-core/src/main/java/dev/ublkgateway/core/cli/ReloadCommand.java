package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceIdentity;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.FrontendChoice;
import dev.ublkgateway.core.runtime.Handover;
import dev.ublkgateway.core.runtime.Reload;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.runtime.SystemdUnit;
import dev.ublkgateway.core.sys.Libc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.Callable;

@Command(name = "reload", description = "Live upgrade inside a systemd unit (its ExecReload=, run by `systemctl reload "
        + "ublk-gateway@NAME`): the unit's gateway hands every device to a new gateway started in the unit (this build, "
        + "the configuration file as it is now), which becomes the unit's main process. As `upgrade`: no I/O error, "
        + "recovery: true, the target and the size stay.")
final class ReloadCommand implements Callable<Integer> {
    /** How long the successor may take to serve every device (within the unit's TimeoutStartSec=). */
    static final long SUCCESSOR_SECONDS = 240;

    @Parameters(paramLabel = "MAINPID", description = "the unit's gateway ($MAINPID in ExecReload=)")
    long pid;

    @Override
    public Integer call() throws Exception {
        StateStore states = StateStore.system();
        List<DeviceState> devices = states.all().stream().filter(s -> s.pid() == pid).toList();
        String unit = checkPlace(pid, devices, SystemdUnit.serviceOf(pid), SystemdUnit.serviceOf(Libc.getpid()));
        Common.requireRoot("reload");
        for (DeviceState s : devices) {
            UpgradeCommand.refuseUnsuitable(s);
            UpgradeCommand.refuseWithoutQuiesce(s);
        }
        Path file = Path.of(devices.getFirst().config());
        GatewayConfig config = Common.load(file, Common.plugins());
        Map<String, Map<String, String>> identities = identities(devices, config, unit);
        Process successor = startSuccessor(states, file, devices.getFirst().name());
        // a reload stopped by systemd (its timeout) must not leave a successor the old gateway cannot see
        Thread guard = Thread.ofPlatform().unstarted(successor::destroyForcibly);
        Runtime.getRuntime().addShutdownHook(guard);
        Handover.Outcome handed;
        try {
            // the new JVM starts and reads the file while the devices still serve: their I/O then waits
            // only for the hand-over and the re-attach, not for a JVM's start
            Background.awaitPrepared(states.dir(), pid, successor, SUCCESSOR_SECONDS, status -> unit + ": the new gateway "
                    + "exited with status " + status + " before it was ready (its reason is in the unit's journal above); "
                    + "nothing changed");
            System.out.println(unit + ": asking gateway pid " + pid + " to hand over " + String.join(", ", identities.keySet()));
            System.out.flush();
            handed = await(states.dir(), unit, identities);
            if (handed.kind() == Handover.Kind.REFUSED) throw new UblkException(unit + ": " + handed.message());
        } catch (Exception e) {
            successor.destroyForcibly().waitFor();
            throw e;
        }
        if (handed.kind() == Handover.Kind.FAILED) System.err.println(unit + ": handed over, but: " + handed.message());
        long deadline = System.nanoTime() + SUCCESSOR_SECONDS * 1_000_000_000L;
        while (successor.isAlive() && !Background.allUp(config, states, successor.pid()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        if (successor.isAlive() && Background.allUp(config, states, successor.pid())) {
            Reload.nameSuccessor(states.dir(), pid, successor.pid());
            Runtime.getRuntime().removeShutdownHook(guard);
            // the old gateway names it to systemd (MAINPID=) before it answers, so that the unit has its new
            // main process when `systemctl reload` returns
            Optional<Handover.Outcome> named = awaitOutcome(states.dir(), 60);
            System.out.println(unit + ": gateway pid " + successor.pid() + " serves " + String.join(", ", identities.keySet())
                    + (named.isPresent() ? " and is the unit's main process" : "; gateway pid " + pid + " did not confirm "
                    + "that it named it the unit's main process"));
            return 0;
        }
        String why = successor.isAlive() ? "did not serve every device within " + SUCCESSOR_SECONDS + " s"
                : "exited with status " + successor.exitValue() + " (its reason is in the unit's journal above)";
        successor.destroyForcibly().waitFor();
        Reload.nameSuccessor(states.dir(), pid, 0);
        Handover.Outcome back = awaitOutcome(states.dir(), 120).orElse(new Handover.Outcome(Handover.Kind.FAILED,
                "gateway pid " + pid + " did not say whether it took the devices back"));
        throw new UblkException(unit + ": the new gateway " + why + "; " + (back.kind() == Handover.Kind.OK
                ? back.message() + " (nothing changed)" : back.message()));
    }

    /**
     * The unit both this command and gateway {@code pid} run in: a reload starts the successor from here,
     * so it must be the unit's ExecReload=. One line naming the fix otherwise.
     */
    static String checkPlace(long pid, List<DeviceState> devices, Optional<String> gatewayUnit, Optional<String> ownUnit)
            throws UblkException {
        if (devices.isEmpty()) {
            throw new UblkException("no device is served by pid " + pid + "; `reload` takes the main pid of a "
                    + "ublk-gateway unit (ExecReload=/usr/local/bin/ublk-gateway reload $MAINPID)");
        }
        if (gatewayUnit.isEmpty()) {
            throw new UblkException("gateway pid " + pid + " runs in no systemd unit; hand its devices to a new gateway "
                    + "with `ublk-gateway upgrade NAME`");
        }
        if (!gatewayUnit.equals(ownUnit)) {
            throw new UblkException("`reload` runs as the ExecReload= of gateway pid " + pid + "'s unit, so that the new "
                    + "gateway starts there: run `systemctl reload " + SystemdUnit.shortName(gatewayUnit.get()) + "`");
        }
        return SystemdUnit.shortName(gatewayUnit.get());
    }

    /**
     * Each served device's identity under the new configuration. The devices stay the same ones: the file
     * must still have each, on ublk, and no new one (that needs a restart).
     */
    static Map<String, Map<String, String>> identities(List<DeviceState> devices, GatewayConfig config, String unit)
            throws UblkException {
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (DeviceState s : devices) {
            DeviceConfig d = config.device(s.name()).orElseThrow(() -> new UblkException("device " + s.name()
                    + " is no longer in " + s.config() + "; a reload keeps the unit's devices: put it back, or "
                    + "`systemctl restart " + unit + "` to remove it"));
            if (FrontendChoice.of(d, null).equals("nbd")) {
                throw new UblkException(s.name() + " would now be served over NBD; a reload keeps the ublk device: "
                        + "remove frontend: nbd from " + s.config());
            }
            out.put(s.name(), DeviceIdentity.of(d));
        }
        TreeSet<String> added = new TreeSet<>(config.devices().stream().map(DeviceConfig::name).toList());
        added.removeAll(out.keySet());
        if (!added.isEmpty()) {
            throw new UblkException(String.join(", ", added) + (added.size() == 1 ? " is" : " are") + " new in "
                    + devices.getFirst().config() + "; a reload keeps the unit's devices: `systemctl restart " + unit
                    + "` to add " + (added.size() == 1 ? "it" : "them"));
        }
        return out;
    }

    /** Puts the request; one the gateway never takes (a build without reload) is taken back, nothing changed. */
    private Handover.Outcome await(Path dir, String unit, Map<String, Map<String, String>> identities) throws Exception {
        Reload.ask(dir, pid, Libc.getpid(), identities);
        long start = System.nanoTime();
        while ((System.nanoTime() - start) / 1_000_000_000L < UpgradeCommand.TAKE_SECONDS) {
            Optional<Handover.Outcome> o = Reload.outcome(dir, pid);
            if (o.isPresent()) return o.get();
            if (!Reload.pending(dir, pid)) break; // taken: the hand-over runs
            Thread.sleep(50);
        }
        if (Reload.withdraw(dir, pid)) {
            throw new UblkException(unit + ": gateway pid " + pid + " did not take the reload request within "
                    + UpgradeCommand.TAKE_SECONDS + " s (a build without reload?); nothing changed: `systemctl restart "
                    + unit + "` instead");
        }
        return awaitOutcome(dir, UpgradeCommand.HANDOVER_SECONDS).orElseThrow(() -> new UblkException(unit
                + ": gateway pid " + pid + " has not answered the reload request in " + UpgradeCommand.HANDOVER_SECONDS + " s"));
    }

    private Optional<Handover.Outcome> awaitOutcome(Path dir, long seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < end) {
            Optional<Handover.Outcome> o = Reload.outcome(dir, pid);
            if (o.isPresent()) return o;
            if (!StateStore.alive(pid)) return Optional.empty();
            Thread.sleep(50);
        }
        return Optional.empty();
    }

    /**
     * Starts `take-over` in the foreground, from here: in the unit's cgroup, its output in the unit's
     * journal, with the systemd environment of the gateway it succeeds (NOTIFY_SOCKET, WATCHDOG_USEC; the
     * watchdog is its own once it is the main process).
     */
    private Process startSuccessor(StateStore states, Path file, String name) throws Exception {
        List<String> cmd = Background.gatewayCommand(states, name, "take-over", "--from", Long.toString(pid),
                file.toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO().redirectInput(ProcessBuilder.Redirect.PIPE);
        Map<String, String> env = pb.environment();
        env.remove("WATCHDOG_PID");
        env.remove("WATCHDOG_USEC");
        env.putAll(systemdEnvironment(Path.of("/proc", Long.toString(pid), "environ")));
        Process p = pb.start();
        p.getOutputStream().close();
        return p;
    }

    /** NOTIFY_SOCKET and WATCHDOG_USEC from a process's environment file; empty when it cannot be read. */
    static Map<String, String> systemdEnvironment(Path environ) {
        Map<String, String> out = new LinkedHashMap<>();
        try {
            for (String kv : new String(Files.readAllBytes(environ), java.nio.charset.StandardCharsets.UTF_8).split("\0")) {
                int eq = kv.indexOf('=');
                if (eq <= 0) continue;
                String k = kv.substring(0, eq);
                if (k.equals("NOTIFY_SOCKET") || k.equals("WATCHDOG_USEC")) out.put(k, kv.substring(eq + 1));
            }
        } catch (java.io.IOException e) {
            // the successor then keeps this command's NOTIFY_SOCKET and feeds no watchdog
        }
        return out;
    }
}
