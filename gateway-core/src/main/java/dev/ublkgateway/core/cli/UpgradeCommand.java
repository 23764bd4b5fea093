package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkDevice;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.DeviceIdentity;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.FrontendChoice;
import dev.ublkgateway.core.runtime.Handover;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.runtime.SystemdUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "upgrade", description = "Hand a running device to a new gateway process "
        + "(this build, the configuration file as it is now) without an I/O error: the old gateway quiesces the "
        + "device and flushes its data, the new one recovers it. Needs recovery: true; the target and the size stay.")
class UpgradeCommand implements Callable<Integer> {
    /** How long the serving gateway may take to notice the request before it is taken back. */
    static final long TAKE_SECONDS = 15;
    /** How long a hand-over (in-flight I/O, the target's flush) may take once taken. */
    static final long HANDOVER_SECONDS = 600;

    @Mixin
    DeviceRef device;

    @Mixin
    Serving serving;

    @Mixin
    MetricsListen metricsListen;

    @Option(names = "--outside-unit", description = "upgrade a device whose gateway a systemd unit runs: the new "
            + "gateway then runs outside the unit, which ends when the old gateway exits")
    boolean outsideUnit;

    @Override
    public Integer call() throws Exception {
        serving.applyLogging();
        StateStore states = StateStore.system();
        DeviceState s = device.state(states).orElseThrow(() -> device.unknown("up"));
        refuseUnsuitable(s);
        if (!outsideUnit) refuseInUnit(s, SystemdUnit.serviceOf(s.pid()));
        Common.requireRoot("upgrade");
        refuseWithoutQuiesce(s);
        // the new configuration must load, and keep what the device's data depends on, before anything changes
        PluginHost host = Common.plugins();
        GatewayConfig config = Common.load(Path.of(s.config()), host);
        DeviceConfig d = config.device(s.name()).orElseThrow(() -> new UblkException("device " + s.name()
                + " is no longer in " + s.config() + "; a live upgrade needs it there, as it was created"));
        if (FrontendChoice.of(d, null).equals("nbd")) {
            throw new UblkException(s.name() + " would now be served over NBD; a live upgrade keeps the ublk device: "
                    + "remove frontend: nbd from " + s.config());
        }
        if (serving.foreground) return takeOverHere(states, s, d, config, host);
        // the new gateway starts its JVM and reads the file while the device still serves: its I/O then
        // waits only for the hand-over and the re-attach
        GatewayConfig single = RecoverCommand.single(config, s.name());
        List<String> args = new ArrayList<>(List.of("take-over", "--from", Long.toString(s.pid()), "--device", s.name(),
                s.config()));
        args.addAll(metricsListen.arguments());
        args.addAll(serving.logArguments());
        Background.Launched next = Background.launch(single, states, true, args.toArray(String[]::new));
        Handover.Outcome outcome;
        try {
            Background.awaitPrepared(states.dir(), s.pid(), next.process(), Background.START_SECONDS, status -> "the new "
                    + "gateway exited (status " + status + ") before it was ready: " + Background.lastLine(next.log())
                    + "; nothing changed (log: " + next.log() + ")");
            System.out.println(s.name() + ": asking gateway pid " + s.pid() + " to hand over " + s.blockDevice());
            System.out.flush();
            outcome = await(states, s, DeviceIdentity.of(d));
            if (outcome.kind() == Handover.Kind.REFUSED) throw new UblkException(outcome.message());
        } catch (Exception e) {
            next.process().destroyForcibly().waitFor();
            throw e;
        }
        if (outcome.kind() == Handover.Kind.FAILED) {
            System.err.println(s.name() + ": handed over, but: " + outcome.message());
        } else {
            System.out.println(s.name() + ": handed over (" + outcome.message() + "); the new gateway takes it over");
        }
        int rc = Background.awaitUp(single, states, next);
        if (rc != 0) {
            System.err.println(s.name() + ": the device waits for a gateway (its I/O is held, not failed); fix the "
                    + "problem above and run `ublk-gateway recover " + s.name() + "`");
        }
        return rc;
    }

    /** With --foreground this process is the new gateway: asks for the device, then serves it here. */
    private int takeOverHere(StateStore states, DeviceState s, DeviceConfig d, GatewayConfig config, PluginHost host)
            throws Exception {
        System.out.println(s.name() + ": asking gateway pid " + s.pid() + " to hand over " + s.blockDevice());
        System.out.flush();
        Handover.Outcome outcome = await(states, s, DeviceIdentity.of(d));
        if (outcome.kind() == Handover.Kind.REFUSED) throw new UblkException(outcome.message());
        if (outcome.kind() == Handover.Kind.FAILED) System.err.println(s.name() + ": handed over, but: " + outcome.message());
        TakeOverCommand.awaitExitOfIdle(states, s.pid(), 30); // its metrics port is free after that
        DeviceState released = states.load(s.name()).orElse(s).withPid(0);
        return RecoverCommand.serve(released, config, host, states, serving, metricsListen);
    }

    /**
     * Refuses, before a new gateway is started for nothing, a device the kernel cannot hand over (no
     * QUIESCE, or no recovery): the serving gateway would refuse it the same way.
     */
    static void refuseWithoutQuiesce(DeviceState s) throws UblkException {
        long flags;
        try (UblkControl c = UblkControl.open()) {
            flags = c.devInfo(s.devId()).flags();
        } catch (UblkException e) {
            return; // the serving gateway answers for its device
        }
        if (!UblkDevice.canHandOver(flags)) throw new UblkException(Handover.cannotHandOver(s.name()));
    }

    /** The refusals that need no configuration: one line naming the problem and the fix. */
    static void refuseUnsuitable(DeviceState s) throws UblkException {
        if (s.servedOverNbd()) {
            throw new UblkException(s.name() + " is served over NBD; a live upgrade hands over ublk devices: restart its "
                    + "gateway instead (`ublk-gateway down " + s.name() + "`, then `up`), NBD clients reconnect");
        }
        if (!s.recovery()) {
            throw new UblkException("device " + s.name() + " was not created with recovery: true, so it cannot outlive its "
                    + "gateway; set recovery: true in " + s.config() + " and re-create it (`ublk-gateway down " + s.name()
                    + "`, `ublk-gateway up " + s.config() + "`)");
        }
        if (!StateStore.alive(s.pid())) {
            throw new UblkException("no gateway serves " + s.name() + (s.pid() > 0 ? " (pid " + s.pid() + " is gone)" : "")
                    + "; run `ublk-gateway recover " + s.name() + "`");
        }
    }

    /**
     * A gateway started by a systemd unit is the unit's main process: the new gateway `upgrade` starts
     * would run outside it, so the unit would end with the old one and `systemctl stop` would no longer
     * stop the device. Refused unless asked for (--outside-unit).
     */
    static void refuseInUnit(DeviceState s, Optional<String> service) throws UblkException {
        if (service.isEmpty()) return;
        String unit = SystemdUnit.shortName(service.get());
        throw new UblkException(s.name() + " is served by gateway pid " + s.pid() + " of systemd's " + service.get()
                + ", and the new gateway would run outside it (the unit ends with the old gateway; `systemctl stop "
                + unit + "` would no longer stop the device): `systemctl reload " + unit + "` upgrades it inside the unit "
                + "(--outside-unit upgrades it anyway)");
    }

    /**
     * Puts the request and waits for the gateway's answer. A gateway that never takes it (a build without
     * live upgrade) gets it taken back, and nothing changed; one that dies meanwhile left the device for
     * recovery as a crash does.
     */
    private static Handover.Outcome await(StateStore states, DeviceState s, java.util.Map<String, String> identity)
            throws Exception {
        Path dir = states.dir();
        // the old gateway's flush as it closes the target (a chunked volume's cache), as `down` shows it
        long since = System.currentTimeMillis();
        OperationWatch flush = new OperationWatch(dir,
                op -> op.operation().equals(ProgressReporter.FLUSH) && op.startedAt() >= since, label -> null);
        Progress progress = Progress.onStdout(s.name() + ": flushing");
        Handover.ask(dir, s.name(), identity);
        long start = System.nanoTime();
        boolean taken = false;
        while (true) {
            Optional<Handover.Outcome> o = Handover.outcome(dir, s.name());
            if (flush.poll(java.util.List.of(s.name())) && flush.seen().stream().anyMatch(x -> x.op().running())) {
                long total = flush.seen().stream().filter(x -> x.op().running()).mapToLong(x -> x.op().total()).sum();
                progress.left(total, flush.left());
            }
            if (o.isPresent()) {
                flush.poll(java.util.List.of(s.name()));
                if (!flush.seen().isEmpty()) {
                    progress.finish(s.name() + ": " + (flush.failures().isEmpty() ? "flushed all data" : "flush failed"));
                }
                return o.get();
            }
            long waited = (System.nanoTime() - start) / 1_000_000_000L;
            if (!taken && waited >= TAKE_SECONDS) {
                if (Handover.withdraw(dir, s.name())) {
                    throw new UblkException("gateway pid " + s.pid() + " did not take the upgrade request within "
                            + TAKE_SECONDS + " s (a build without live upgrade?); nothing changed. Restart it with `down` "
                            + "and `up` instead");
                }
                taken = true;
            }
            if (!StateStore.alive(s.pid())) {
                Handover.withdraw(dir, s.name());
                o = Handover.outcome(dir, s.name());
                if (o.isPresent()) return o.get();
                return new Handover.Outcome(Handover.Kind.FAILED, "gateway pid " + s.pid()
                        + " exited without answering; recovering the device as after a crash");
            }
            if (waited >= HANDOVER_SECONDS) {
                throw new UblkException("gateway pid " + s.pid() + " has not finished handing over " + s.name() + " in "
                        + HANDOVER_SECONDS + " s; see its log " + states.logFile(s.name()));
            }
            Thread.sleep(50);
        }
    }
}
