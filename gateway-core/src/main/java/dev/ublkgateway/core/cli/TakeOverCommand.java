package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.Reload;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The new gateway of a reload (every device of the file) or an upgrade (one, {@code --device}): starts and
 * reads the file while the old gateway still serves, says so, then recovers the devices once gateway
 * {@code --from} has handed them over. Under systemd it says READY=1 only after a reload's old gateway
 * has named it the unit's main process and exited. A failure midway lets the devices taken so far go
 * again, for the old gateway to take back.
 */
@Command(name = "take-over", hidden = true, description = "The new gateway of a reload or an upgrade (started by them).")
final class TakeOverCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "PID", description = "the gateway that handed the devices over")
    long from;

    @Parameters(paramLabel = "FILE.yaml")
    Path file;

    @Option(names = "--device", paramLabel = "NAME", description = "only this device of the file (an upgrade)")
    String device;

    @Mixin
    Serving serving;

    @Mixin
    MetricsListen metricsListen;

    @Override
    public Integer call() throws Exception {
        serving.applyLogging();
        PluginHost host = Common.plugins();
        GatewayConfig whole = Common.load(file, host);
        GatewayConfig config = device == null ? whole : RecoverCommand.single(whole, device);
        if (config.devices().isEmpty()) throw new UblkException("device " + device + " is no longer in " + file);
        serving.applyLogging(config);
        StateStore states = StateStore.system();
        Gateway gateway = new Gateway(states, new ChainFactory(host));
        Reload.markPrepared(states.dir(), from, ProcessHandle.current().pid());
        List<DeviceState> handed = awaitHandOver(states, config);
        try {
            for (DeviceState s : handed) gateway.recover(config, s);
        } catch (Exception e) {
            gateway.releaseAll();
            throw e;
        }
        // A reload's old gateway names this one to systemd and exits: READY=1 and the watchdog after
        // that, and the metrics port is free then
        awaitExitOfIdle(states, from, 90);
        try {
            metricsListen.serveForRecovery(gateway, config);
        } catch (java.io.IOException e) {
            // the devices serve already: they matter more than their metrics
            java.util.logging.Logger.getLogger(TakeOverCommand.class.getName()).warning(e.getMessage()
                    + "; serving without metrics");
        }
        return Serving.untilStopped(gateway, config.devices().size() + " device(s) serving from " + file.getFileName());
    }

    /**
     * Waits (at most {@code seconds}) for gateway {@code pid} to exit once it serves no device, as one
     * that handed over its last does; one that still serves other devices goes on, and so does this.
     */
    static void awaitExitOfIdle(StateStore states, long pid, long seconds) {
        if (states.all().stream().anyMatch(s -> s.pid() == pid)) return;
        ProcessHandle.of(pid).ifPresent(p -> p.onExit().completeOnTimeout(p, seconds, TimeUnit.SECONDS).join());
    }

    /** The state of every device of the file once gateway {@code from} has let them all go (pid 0). */
    private List<DeviceState> awaitHandOver(StateStore states, GatewayConfig config) throws Exception {
        long deadline = System.nanoTime() + (UpgradeCommand.HANDOVER_SECONDS + 60) * 1_000_000_000L;
        while (true) {
            List<DeviceState> handed = new ArrayList<>();
            for (DeviceConfig d : config.devices()) {
                DeviceState s = states.load(d.name()).orElseThrow(() -> new UblkException("device " + d.name()
                        + " has no state file; nothing to take over"));
                // handed over, or left as a crash leaves it: the old gateway died on the way
                if (s.pid() == 0 || s.pid() == from && !StateStore.alive(from)) handed.add(s.withPid(0));
            }
            if (handed.size() == config.devices().size()) return handed;
            if (!StateStore.alive(from) || System.nanoTime() > deadline) {
                throw new UblkException("gateway pid " + from + " did not hand its devices over; nothing taken over");
            }
            Thread.sleep(50);
        }
    }
}
