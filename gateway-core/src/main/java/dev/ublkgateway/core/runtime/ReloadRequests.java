package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.frontend.ublk.UblkDevice;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.sys.Libc;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * A gateway's side of a reload (a systemd unit's ExecReload=, `ublk-gateway reload`, {@link Reload}):
 * checks the request for every device (all or nothing), hands them over, and waits for `reload` to name
 * the successor that serves them. A successor that fails (or a reload that dies before one serves)
 * leaves the devices to be taken back, as they were.
 */
final class ReloadRequests {
    private static final Logger LOG = Logger.getLogger(ReloadRequests.class.getName());
    /** How long a gateway that handed its devices over waits for the successor to serve them. */
    static final long RELOAD_SECONDS = 300;

    private final Gateway gateway;
    private final StateStore states;

    ReloadRequests(Gateway gateway, StateStore states) {
        this.gateway = gateway;
        this.states = states;
    }

    /**
     * Serves a request, if there is one: every device goes to the successor, or none does. Returns the
     * successor's pid when they went, after {@code handOff} was told it (systemd's MAINPID=); else 0.
     */
    long answer(LongConsumer handOff) {
        long self = Libc.getpid();
        Optional<Reload.Request> request;
        try {
            request = Reload.take(states.dir(), self);
        } catch (IOException | RuntimeException e) {
            LOG.warning("reading the reload request: " + e.getMessage());
            return 0;
        }
        if (request.isEmpty()) return 0;
        Optional<String> refusal = reloadRefusal(request.get().identities());
        if (refusal.isPresent()) {
            LOG.info("reload refused: " + refusal.get());
            answer(Handover.Kind.REFUSED, refusal.get());
            return 0;
        }
        List<String> names = gateway.devices().stream().map(UblkDevice::name).toList();
        String failure = null;
        for (UblkDevice d : gateway.devices()) {
            try {
                gateway.handOver(d);
            } catch (UblkException e) {
                failure = d.name() + ": " + e.getMessage();
            }
        }
        answer(failure == null ? Handover.Kind.OK : Handover.Kind.FAILED,
                failure == null ? "handed over " + String.join(", ", names) : failure);
        long next = awaitSuccessor(request.get().reloader(), names);
        if (next > 0) {
            handOff.accept(next);
            LOG.info("reload: gateway pid " + next + " serves " + String.join(", ", names) + "; this gateway exits");
            answer(Handover.Kind.OK, "gateway pid " + next + " took over");
            return next;
        }
        takeBack(names);
        return 0;
    }

    /** Why this gateway's devices cannot all go to a successor with {@code next} identities; empty: they can. */
    private Optional<String> reloadRefusal(Map<String, Map<String, String>> next) {
        if (gateway.servesNbd()) {
            return Optional.of("this gateway also serves NBD exports, and a reload hands over ublk devices only; "
                    + "restart the unit instead");
        }
        Set<String> serving = new TreeSet<>(gateway.devices().stream().map(UblkDevice::name).toList());
        if (serving.isEmpty()) return Optional.of("this gateway serves no ublk device");
        if (!serving.equals(new TreeSet<>(next.keySet()))) {
            return Optional.of("a reload keeps the gateway's devices (serving " + String.join(", ", serving)
                    + ", the new configuration has " + String.join(", ", new TreeSet<>(next.keySet()))
                    + "); restart the unit to add or remove devices");
        }
        for (UblkDevice d : gateway.devices()) {
            Optional<String> r = Handover.refusal(d.name(), gateway.identity(d.name()), next.get(d.name()),
                    d.canHandOver());
            if (r.isPresent()) return r;
        }
        return Optional.empty();
    }

    /**
     * Waits for `reload` to name the successor once it serves {@code names}: its pid, or 0 when there is
     * none (it failed, or `reload` died and no one process serves them all).
     */
    private long awaitSuccessor(long reloader, List<String> names) {
        long self = Libc.getpid();
        long deadline = System.nanoTime() + RELOAD_SECONDS * 1_000_000_000L;
        try {
            while (true) {
                OptionalLong named = Reload.successorOf(states.dir(), self);
                if (named.isPresent()) return named.getAsLong();
                if (!StateStore.alive(reloader) || System.nanoTime() > deadline) {
                    long other = servedByOne(names);
                    if (other > 0 && other != self) return other;
                    LOG.warning("reload: " + (StateStore.alive(reloader) ? "no successor within " + RELOAD_SECONDS + " s"
                            : "`reload` (pid " + reloader + ") ended without naming a successor"));
                    return 0;
                }
                Thread.sleep(100);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning("reload: reading the successor's name: " + e.getMessage());
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The one live process whose state files say it serves every device of {@code names}, else 0. */
    private long servedByOne(List<String> names) {
        Set<Long> pids = new HashSet<>();
        for (String n : names) pids.add(states.load(n).map(DeviceState::pid).orElse(0L));
        long pid = pids.size() == 1 ? pids.iterator().next() : 0;
        return StateStore.alive(pid) ? pid : 0;
    }

    /** After a failed reload: serves the devices handed over again, as this gateway had them. */
    private void takeBack(List<String> names) {
        List<String> lost = new ArrayList<>();
        for (String n : names) {
            try {
                DeviceState s = states.load(n).orElseThrow(() -> new UblkException("its state file is gone"));
                if (StateStore.alive(s.pid()) && s.pid() != Libc.getpid()) {
                    // a successor that took some devices and then failed: its end lets them go
                    ProcessHandle.of(s.pid()).ifPresent(p -> {
                        p.destroyForcibly();
                        p.onExit().completeOnTimeout(p, 30, TimeUnit.SECONDS).join();
                    });
                }
                gateway.recover(gateway.served(), s.withPid(0));
            } catch (IOException | RuntimeException e) {
                LOG.severe(n + ": not taken back after the failed reload (" + e.getMessage() + "); its I/O waits: run "
                        + "`ublk-gateway recover " + n + "`");
                lost.add(n);
            }
        }
        String message = lost.isEmpty() ? "gateway pid " + Libc.getpid() + " serves " + String.join(", ", names) + " again"
                : "not taken back: " + String.join(", ", lost) + " (run `ublk-gateway recover NAME`)";
        LOG.info("reload failed; " + message);
        answer(lost.isEmpty() ? Handover.Kind.OK : Handover.Kind.FAILED, message);
    }

    private void answer(Handover.Kind kind, String message) {
        try {
            Reload.answer(states.dir(), Libc.getpid(), kind, message);
        } catch (IOException e) {
            LOG.severe("cannot answer the reload request: " + e.getMessage());
        }
    }
}
