package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.nbd.Export;
import dev.ublkgateway.core.frontend.nbd.ListenAddress;
import dev.ublkgateway.core.frontend.nbd.NbdServer;
import dev.ublkgateway.core.frontend.nbd.NbdTls;
import dev.ublkgateway.core.config.NbdTlsConfig;
import dev.ublkgateway.core.tls.PskKeys;
import dev.ublkgateway.core.tls.ServerCredentials;
import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.ListenFds;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Serving a configuration's devices over NBD: where the server listens, and the running server with
 * the devices' chains and state files. Which devices go there is {@link FrontendChoice}'s.
 */
public final class NbdService {
    private static final Logger LOG = Logger.getLogger(NbdService.class.getName());

    private final NbdServer server;
    private final List<DeviceChain> chains;
    private final List<String> names;
    private final StateStore states;
    private final DeviceStats stats;

    private NbdService(NbdServer server, List<DeviceChain> chains, List<String> names, StateStore states,
                       DeviceStats stats) {
        this.server = server;
        this.chains = chains;
        this.names = names;
        this.states = states;
        this.stats = stats;
    }

    /** Where the server listens: the CLI override, else the devices' nbd-listen, else the defaults. */
    public static List<ListenAddress> listenAddresses(List<DeviceConfig> devices, List<String> override, Path runDir) {
        Set<String> texts = new LinkedHashSet<>();
        if (override != null && !override.isEmpty()) texts.addAll(override);
        else for (DeviceConfig d : devices) texts.addAll(d.frontend().nbdListen());
        if (texts.isEmpty()) {
            texts.add("unix:" + runDir.resolve("nbd.sock"));
            texts.add("127.0.0.1:" + ListenAddress.NBD_PORT);
        }
        List<ListenAddress> out = new ArrayList<>();
        for (String t : texts) out.add(ListenAddress.parse(t));
        return out;
    }

    /**
     * The export for a device whose chain is open; multi-conn when the chain's stages and target all
     * declare they are multi-conn safe.
     */
    static Export export(DeviceConfig d, Target chain) {
        return new Export(d.name(), chain, d.sizeBytes(), d.blockSize(), d.maxIoBytes(), d.depth(), d.queues(),
                chain.capabilities().multiConnSafe(), false);
    }

    /**
     * Opens the devices' chains, starts the server and records each device in the state directory
     * (its "block device" being the NBD URI). On failure everything opened is closed again.
     */
    static NbdService start(List<DeviceConfig> devices, GatewayConfig config, ChainFactory factory, StateStore states,
                            DeviceStats stats, List<String> listenOverride) throws IOException {
        List<DeviceChain> chains = new ArrayList<>();
        List<Export> exports = new ArrayList<>();
        NbdServer server = null;
        try {
            int maxConn = 1;
            for (DeviceConfig d : devices) {
                DeviceChain c = factory.open(d, false);
                chains.add(c);
                exports.add(export(d, c));
                maxConn = Math.max(maxConn, d.frontend().nbdMaxConnections());
            }
            // socket activation (LISTEN_FDS) replaces the configured addresses by systemd's sockets
            server = new NbdServer(exports, listenAddresses(devices, listenOverride, states.dir()), maxConn)
                    .inherit(ListenFds.fromEnvironment())
                    .tls(tls(devices));
            server.start();
        } catch (IOException | RuntimeException e) {
            if (server != null) server.close();
            for (DeviceChain c : chains) closeQuietly(c);
            throw e;
        }
        List<ListenAddress> bound = server.addresses();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            DeviceConfig d = devices.get(i);
            stats.add(d.name(), chains.get(i));
            List<String> uris = bound.stream().map(a -> a.uri(d.name(), d.frontend().tls().enabled())).toList();
            states.save(new DeviceState(d.name(), -1, Libc.getpid(), config.source().toString(), false,
                    uris.getFirst(), ChainFactory.describe(d), d.sizeBytes(), d.queues()));
            names.add(d.name());
            LOG.info(d.name() + ": serving over NBD at " + String.join(" and ", uris) + " (" + ChainFactory.describe(d)
                    + ", " + d.sizeBytes() + " bytes)");
        }
        return new NbdService(server, chains, names, states, stats);
    }

    /**
     * The server's TLS: one server serves all the devices, so they must agree on it. The credentials are
     * loaded again here (validate loaded them too): they may have changed since.
     */
    static NbdTls tls(List<DeviceConfig> devices) {
        NbdTlsConfig first = devices.getFirst().frontend().tls();
        for (DeviceConfig d : devices) {
            if (!d.frontend().tls().equals(first)) {
                throw new IllegalArgumentException("NBD devices " + devices.getFirst().name() + " and " + d.name()
                        + " have different TLS settings, but one gateway serves its NBD devices on one server; give them "
                        + "the same tls:, tls-certificates: and tls-verify-peer:, or put them in separate files");
            }
        }
        if (!first.enabled()) return NbdTls.OFF;
        if (first.tlsPsk() != null) return NbdTls.of(first.tls(), null, PskKeys.load(first.tlsPsk()));
        return NbdTls.of(first.tls(), ServerCredentials.load(first.tlsCertificates(), first.tlsVerifyPeer()), null);
    }

    /** A served device's block size. */
    public int blockSize(String name) {
        Export e = server.export(name);
        return e == null ? 512 : e.blockSize();
    }

    /** The names of the devices served. */
    public List<String> names() {
        return List.copyOf(names);
    }

    /**
     * Grows (or, with {@code shrink}, shrinks) a device served over NBD: the target first, then the size
     * new connections are told. Connections already open keep their size (NBD cannot tell them), so a
     * shrink is refused: such a client could still write beyond the new end.
     */
    public synchronized long resize(String name, long newSize, boolean shrink) throws IOException {
        int i = names.indexOf(name);
        Export e = server.export(name);
        if (i < 0 || e == null) throw new IOException("device " + name + " is not served over NBD by this gateway");
        long old = e.sizeBytes();
        if (newSize < old) {
            throw new IOException("device " + name + " is served over NBD, whose clients cannot be told that it shrank; "
                    + "bring it down, and up with the smaller size (the target keeps the data up to there)");
        }
        chains.get(i).resize(newSize, false);
        server.resize(name, newSize);
        return old;
    }

    /** Stops the server (in-flight requests are answered), then flushes and closes the chains. */
    public void stop() {
        server.close();
        for (int i = 0; i < chains.size(); i++) {
            try {
                chains.get(i).close();
                LOG.info(names.get(i) + ": NBD export stopped");
            } catch (IOException e) {
                LOG.warning(names.get(i) + ": closing: " + e.getMessage());
            }
            stats.remove(names.get(i));
            states.remove(names.get(i));
        }
    }

    private static void closeQuietly(DeviceChain c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // the original failure is what the user needs to see
        }
    }
}
