package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.frontend.ublk.DeviceSpec;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkDevice;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.metrics.MetricsServer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;

/**
 * Serves the devices of one configuration file in this process until SIGINT/SIGTERM, which stop and
 * delete them cleanly. With recovery enabled a crash leaves them for {@code recover}.
 */
public final class Gateway {
    private static final Logger LOG = Logger.getLogger(Gateway.class.getName());

    private final StateStore states;
    private final ChainFactory chains;
    private final List<UblkDevice> devices = new ArrayList<>();
    /** Each ublk device's identity ({@link DeviceIdentity}), which a hand-over must keep. */
    private final java.util.Map<String, java.util.Map<String, String>> identities = new java.util.concurrent.ConcurrentHashMap<>();
    /** Each served device's chain (ublk devices; NBD ones are the NBD service's) and control socket. */
    private final java.util.Map<String, DeviceChain> ublkChains = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, ControlSocket> controls = new java.util.concurrent.ConcurrentHashMap<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final DeviceStats stats = new DeviceStats();
    private final ReloadRequests reloads;
    private UblkControl control;
    private volatile NbdService nbd;
    private volatile MetricsServer metrics;
    /** The configuration the devices came from: a reload whose successor fails takes them back with it. */
    private volatile GatewayConfig served;
    /** Told the successor's pid before this gateway exits after a reload (systemd's MAINPID=). */
    private volatile java.util.function.LongConsumer handOff = pid -> { };
    private boolean hooked;

    public Gateway(StateStore states, ChainFactory chains) {
        this.states = states;
        this.chains = chains;
        this.reloads = new ReloadRequests(this, states);
        if (chains != null) chains.publishProgressIn(states.dir()); // null: a gateway that opens no devices
    }

    public static DeviceSpec spec(DeviceConfig d) {
        return new DeviceSpec(d.name(), d.sizeBytes(), d.blockSize(), d.queues(), d.depth(), d.maxIoBytes(), d.recovery(),
                d.frontend().pollMicros(), d.frontend().zeroCopy(), d.frontend().batchIo());
    }

    /** Refuses a device name that a live gateway already serves. */
    public void checkNotRunning(GatewayConfig config) throws UblkException {
        for (DeviceConfig d : config.devices()) {
            var s = states.load(d.name());
            if (s.isEmpty()) continue;
            if (StateStore.alive(s.get().pid())) {
                throw new UblkException("device " + d.name() + " is already up (" + s.get().blockDevice() + ", pid "
                        + s.get().pid() + "); run `ublk-gateway down " + d.name() + "` first");
            }
            if (s.get().recovery()) {
                throw new UblkException("device " + d.name() + " (" + s.get().blockDevice() + ") was left by a gateway "
                        + "that died; run `ublk-gateway recover " + d.name() + "` or `ublk-gateway down " + d.name() + "`");
            }
        }
    }

    /** Creates every device; on any failure the ones already created are removed again. */
    public void up(GatewayConfig config) throws IOException {
        up(config, null, List.of());
    }

    /**
     * As {@link #up(GatewayConfig)}, each device on its frontend (ublk or NBD; {@code frontend} overrides
     * the YAML's when not null), NBD devices listening on {@code nbdListen} when not empty.
     */
    public void up(GatewayConfig config, String frontend, List<String> nbdListen) throws IOException {
        checkNotRunning(config);
        List<DeviceConfig> viaNbd = config.devices().stream()
                .filter(d -> FrontendChoice.of(d, frontend).equals("nbd")).toList();
        List<DeviceConfig> viaUblk = config.devices().stream().filter(d -> !viaNbd.contains(d)).toList();
        if (!viaUblk.isEmpty()) control = UblkControl.open();
        served = config;
        installShutdownHook();
        if (!viaNbd.isEmpty()) {
            nbd = NbdService.start(viaNbd, config, chains, states, stats, nbdListen);
            for (DeviceConfig d : viaNbd) listenForControl(d.name());
        }
        for (DeviceConfig d : viaUblk) {
            DeviceChain target = chains.open(d, false);
            UblkDevice dev;
            try {
                dev = UblkDevice.create(control, spec(d), target, -1);
            } catch (UblkException | RuntimeException e) {
                closeQuietly(target);
                stopAll();
                throw new UblkException("device " + d.name() + ": " + e.getMessage(), 0);
            }
            register(d, config, dev, target, "up");
        }
    }

    /** Re-attaches to a device left by a crashed gateway, as described by its state file. */
    public void recover(GatewayConfig config, DeviceState state) throws IOException {
        DeviceConfig configured = config.device(state.name()).orElseThrow(() -> new UblkException("device " + state.name()
                + " is no longer in " + state.config() + "; recover needs the configuration it was created with"));
        if (control == null) control = UblkControl.open(); // once for all the devices of a successor
        served = config;
        // a device resized online has the size the kernel shows, not the configuration's
        long live;
        try {
            live = control.params(state.devId()).devSectors() << 9;
        } catch (UblkException e) {
            live = 0; // no such device: the re-attach below says so
        }
        DeviceConfig d = live > 0 && live != configured.sizeBytes() ? withSize(configured, live) : configured;
        installShutdownHook();
        // from re-opening the target (which may replay what it kept) until the device serves again
        var recovery = chains.progress(d.name()).start(dev.ublkgateway.api.ProgressReporter.RECOVERY, 0);
        DeviceChain target;
        try {
            target = chains.open(d, true);
        } catch (IOException | RuntimeException e) {
            recovery.failed(e.getMessage());
            throw e;
        }
        try {
            UblkDevice dev = UblkDevice.recover(control, state.devId(), spec(d), target);
            recovery.done();
            register(d, config, dev, target, "recovered");
        } catch (UblkException | RuntimeException e) {
            recovery.failed(e.getMessage());
            closeQuietly(target);
            throw e;
        }
    }

    private void register(DeviceConfig d, GatewayConfig config, UblkDevice dev, DeviceChain chain, String verb)
            throws IOException {
        synchronized (devices) {
            devices.add(dev);
        }
        ublkChains.put(d.name(), chain);
        stats.add(d.name(), chain);
        identities.put(d.name(), DeviceIdentity.of(d));
        states.save(new DeviceState(d.name(), dev.id(), Libc.getpid(), config.source().toString(), d.recovery(),
                dev.blockDevice(), ChainFactory.describe(d), d.sizeBytes(), d.queues()));
        listenForControl(d.name());
        LOG.info(d.name() + ": " + verb + " as " + dev.blockDevice() + " (" + ChainFactory.describe(d) + ", "
                + d.sizeBytes() + " bytes, " + d.queues() + " queue(s) x " + d.depth() + ", data path: "
                + dev.dataPath().label() + ")");
    }

    private static DeviceConfig withSize(DeviceConfig d, long size) {
        return new DeviceConfig(d.name(), size, d.blockSize(), d.queues(), d.depth(), d.maxIoBytes(), d.recovery(), d.target(),
                d.stages(), d.frontend());
    }

    /**
     * Opens the device's control socket. Without it the device still serves, only commands that need the
     * gateway (resize) cannot reach it, which they then say.
     */
    private void listenForControl(String name) {
        try {
            controls.put(name, ControlSocket.listen(states.controlSocket(name), request -> control(name, request)));
        } catch (IOException | RuntimeException e) {
            LOG.warning(name + ": no control socket at " + states.controlSocket(name) + " (" + e.getMessage()
                    + "); `ublk-gateway resize` cannot reach this device");
        }
    }

    /** One request on a device's control socket: {@code resize BYTES [shrink]}. */
    String control(String name, String request) throws IOException {
        String[] w = request.split(" +");
        if (w[0].equals("resize") && (w.length == 2 || w.length == 3 && w[2].equals("shrink"))) {
            long bytes;
            try {
                bytes = Long.parseLong(w[1]);
            } catch (NumberFormatException e) {
                throw new IOException("resize: \"" + w[1] + "\" is not a size in bytes");
            }
            return resize(name, bytes, w.length == 3);
        }
        throw new IOException("unknown request \"" + request + "\"; this gateway knows: resize BYTES [shrink]");
    }

    /**
     * Changes a served device's size: the target first, then the device, so the kernel (or an NBD client)
     * never sees a size the target cannot serve, and a target that cannot change refuses before anything
     * changed. A shrink (only with {@code shrink}) cuts the target while the kernel may still send requests
     * beyond the new end: the user said that data is no longer wanted, and such requests fail. The state
     * file follows.
     */
    public synchronized String resize(String name, long newSize, boolean shrink) throws IOException {
        DeviceState state = states.load(name).orElseThrow(() -> new IOException("device " + name + " is not served here"));
        UblkDevice dev = devices().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
        NbdService n = nbd;
        if (dev == null && (n == null || !n.names().contains(name))) throw new IOException("device " + name + " is not served here");
        if (dev != null) {
            String why = dev.resizeUnsupported(); // first: no other answer helps on such a kernel
            if (why != null) throw new IOException(why);
        }
        long old = dev != null ? dev.sizeBytes() : state.sizeBytes();
        int blockSize = dev != null ? dev.blockSize() : n.blockSize(name);
        if (newSize <= 0 || newSize % blockSize != 0) {
            throw new IOException("size " + newSize + " is not a positive multiple of the device's block size " + blockSize);
        }
        if (newSize == old) return name + ": already " + Size.format(newSize);
        if (newSize < old && !shrink) {
            throw new IOException("shrinking " + name + " from " + Size.format(old) + " to " + Size.format(newSize)
                    + " discards the data beyond the new end; shrink the file system first, then pass --shrink");
        }
        if (dev != null) {
            ublkChains.get(name).resize(newSize, newSize < old);
            dev.updateSize(newSize);
        } else {
            old = n.resize(name, newSize, shrink);
        }
        states.save(new DeviceState(state.name(), state.devId(), state.pid(), state.config(), state.recovery(),
                state.blockDevice(), state.target(), newSize, state.queues()));
        LOG.info(name + ": resized from " + old + " to " + newSize + " bytes");
        return name + ": resized from " + Size.format(old) + " to " + Size.format(newSize)
                + "; set size: " + Size.compact(newSize) + " in " + state.config() + " for the next up";
    }

    /** Serves the devices' metrics at http://ADDRESS/metrics until {@link #stopAll}; returns the port. */
    public int serveMetrics(MetricsAddress address) throws IOException {
        MetricsServer m = MetricsServer.start(address, stats::all, stats::sources);
        metrics = m;
        LOG.info("metrics at http://" + new MetricsAddress(address.host(), m.port()) + "/metrics");
        return m.port();
    }

    public List<UblkDevice> devices() {
        synchronized (devices) {
            return List.copyOf(devices);
        }
    }

    /**
     * Publishes the stats stages' counters for `ublk-gateway stats` once a second, on a platform thread:
     * a virtual one's timed wake-ups would keep the virtual-thread scheduler's workers spinning.
     */
    private void startStatsPublisher() {
        Thread.ofPlatform().daemon().name("stats-publisher").start(() -> {
            while (stopped.getCount() > 0) {
                stats.publish(states::saveStats);
                try {
                    stopped.await(1, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException ex) {
                    return;
                }
            }
        });
    }

    private void installShutdownHook() {
        if (hooked) return; // a successor recovers its devices one by one
        hooked = true;
        startStatsPublisher();
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("ublk-shutdown").unstarted(() -> {
            stopAll();
            stopped.countDown();
        }));
    }

    /**
     * Blocks until the process is told to stop, watching for queue failures and hand-over requests
     * meanwhile; returns too when the last device was handed over.
     */
    public void awaitStop() throws InterruptedException {
        while (!stopped.await(250, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            if (answerHandovers() || answerReload()) return;
            for (UblkDevice d : devices()) {
                Throwable f = d.queueFailure();
                if (f != null) {
                    LOG.severe(d.name() + ": queue failed (" + f.getMessage() + "); stopping the device");
                    stopAll();
                    return;
                }
            }
        }
    }

    /** Serves the hand-over requests in the run directory; true when nothing is left to serve after them. */
    private boolean answerHandovers() {
        boolean handedOver = false;
        for (UblkDevice d : devices()) {
            java.util.Optional<java.util.Map<String, String>> next;
            try {
                next = Handover.take(states.dir(), d.name());
            } catch (IOException e) {
                LOG.warning(d.name() + ": reading the upgrade request: " + e.getMessage());
                continue;
            }
            if (next.isEmpty()) continue;
            Handover.Kind kind;
            String message;
            java.util.Optional<String> refusal = Handover.refusal(d.name(), identities.get(d.name()), next.get(),
                    d.canHandOver());
            if (refusal.isPresent()) {
                kind = Handover.Kind.REFUSED;
                message = refusal.get();
            } else {
                String how = d.quiesces() ? "quiesced" : "released";
                try {
                    handOver(d);
                    kind = Handover.Kind.OK;
                    message = how;
                    handedOver = true;
                } catch (UblkException e) {
                    kind = Handover.Kind.FAILED;
                    message = e.getMessage();
                    handedOver = true;
                }
            }
            LOG.info(d.name() + ": upgrade request " + kind.name().toLowerCase(java.util.Locale.ROOT)
                    + (message.isEmpty() ? "" : ": " + message));
            try {
                Handover.answer(states.dir(), d.name(), kind, message);
            } catch (IOException e) {
                LOG.severe(d.name() + ": cannot answer the upgrade request: " + e.getMessage());
            }
        }
        if (!handedOver) return false;
        synchronized (devices) {
            if (!devices.isEmpty() || nbd != null) return false;
        }
        stopped.countDown(); // nothing left: this gateway's work is done
        return true;
    }

    /** What to do with a successor's pid once it serves every device, before `reload` is answered. */
    public void onHandOff(java.util.function.LongConsumer c) {
        handOff = c;
    }

    /**
     * Serves a reload request ({@link ReloadRequests}); true when every device went to a successor: this
     * gateway's work is done.
     */
    private boolean answerReload() {
        long next = reloads.answer(handOff);
        if (next <= 0) return false;
        stopped.countDown();
        return true;
    }

    /** Whether this gateway also serves NBD exports (a reload hands over ublk devices only). */
    boolean servesNbd() {
        return nbd != null;
    }

    /** The identity a served ublk device was set up with ({@link DeviceIdentity}). */
    java.util.Map<String, String> identity(String name) {
        return identities.get(name);
    }

    /** The configuration the devices came from. */
    GatewayConfig served() {
        return served;
    }

    /**
     * For a successor whose start failed midway: lets the devices it took over go again, for the gateway
     * they came from to take back (stopping them, as the shutdown would, would fail their I/O).
     */
    public void releaseAll() {
        for (UblkDevice d : devices()) {
            try {
                handOver(d);
            } catch (UblkException e) {
                LOG.warning(d.name() + ": " + e.getMessage());
            }
        }
    }

    /**
     * Lets one device go to the next gateway, which recovers it: it is no longer ours to stop, and its
     * state file stays for the next gateway to take over.
     */
    void handOver(UblkDevice d) throws UblkException {
        synchronized (devices) {
            devices.remove(d);
        }
        // the next gateway listens at the same path: closing ours later would remove its socket
        ControlSocket c = controls.remove(d.name());
        if (c != null) c.close();
        try {
            d.handOver(30_000);
        } finally {
            stats.remove(d.name());
            identities.remove(d.name());
            // served by no process until the next gateway saves its own
            states.load(d.name()).filter(st -> st.pid() == Libc.getpid()).ifPresent(st -> {
                try {
                    states.save(st.withPid(0));
                } catch (IOException e) {
                    LOG.warning(d.name() + ": updating the state file: " + e.getMessage());
                }
            });
        }
        LOG.info(d.name() + ": handed over " + d.blockDevice() + " for recovery by the next gateway");
    }

    /** Stops and deletes all devices this gateway serves, then forgets them. */
    public void stopAll() {
        for (ControlSocket c : controls.values()) c.close();
        controls.clear();
        NbdService n = nbd;
        nbd = null;
        if (n != null) n.stop();
        MetricsServer m = metrics;
        metrics = null;
        if (m != null) m.close();
        List<UblkDevice> toStop;
        synchronized (devices) {
            toStop = List.copyOf(devices);
            devices.clear();
        }
        for (UblkDevice d : toStop) {
            try {
                d.stop();
                LOG.info(d.name() + ": stopped and removed " + d.blockDevice());
            } catch (UblkException e) {
                LOG.warning(d.name() + ": " + e.getMessage());
            }
            stats.remove(d.name());
            ublkChains.remove(d.name());
            states.remove(d.name());
        }
    }

    private static void closeQuietly(Target t) {
        try {
            t.close();
        } catch (Exception ignored) {
            // the original failure is what the user needs to see
        }
    }
}
