package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.log.LimitedLog;
import dev.ublkgateway.api.Errno;
import dev.ublkgateway.core.sys.NativeException;
import dev.ublkgateway.core.sys.Endpoint;
import dev.ublkgateway.core.sys.Sockets;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * An NBD server for a set of exports: listens on TCP and/or unix sockets and serves each client on its
 * own connection thread. Export names are device names; the empty name selects the first export.
 *
 * <p>Clients cannot lock others out by never finishing the handshake: it has a total deadline, and
 * when every connection slot is taken a newcomer takes the place of a connection still in the
 * handshake (see {@link #evictionCandidate()}). Only established connections keep their slot.
 */
public final class NbdServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NbdServer.class.getName());

    /** How long a client has from accept to choosing an export. */
    static final long HANDSHAKE_MILLIS = 30_000;
    /** Log lines per window of each kind clients can cause (refusals, evictions, failed accepts, connection troubles). */
    private static final int LOG_LINES = 5, CLIENT_LOG_LINES = 10;
    private static final long LOG_WINDOW_MILLIS = 10_000;
    private static final int SOCKET_BUFFER = 4 << 20;
    private final Map<String, Export> exports = new LinkedHashMap<>();
    /** Request buffers of finished connections, reused by new ones (no page faults on reconnect). */
    private final java.util.concurrent.ConcurrentLinkedQueue<java.lang.foreign.MemorySegment> bufferPool =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final List<ListenAddress> requested;
    private final int maxConnections;
    private final List<Listener> listeners = new ArrayList<>();
    private final Set<NbdConnection> connections = ConcurrentHashMap.newKeySet();
    private final AtomicInteger nextId = new AtomicInteger();
    private volatile boolean stopping;
    private long handshakeMillis = HANDSHAKE_MILLIS;
    private LimitedLog refusedLog, evictedLog, acceptLog, clientLog, failureLog;

    private List<Integer> inheritedFds = List.of();
    private NbdTls tls = NbdTls.OFF;

    /** A socket accepted on; {@code inherited} ones belong to systemd too: not shut down, their file kept. */
    private record Listener(ListenAddress address, int fd, Thread thread, boolean inherited) {}

    public NbdServer(List<Export> exports, List<ListenAddress> addresses, int maxConnections) {
        if (exports.isEmpty()) throw new IllegalArgumentException("no exports");
        if (addresses.isEmpty()) throw new IllegalArgumentException("no listen addresses");
        for (Export e : exports) {
            if (e.name().getBytes(StandardCharsets.UTF_8).length > Handshake.MAX_NAME_BYTES) {
                throw new IllegalArgumentException("export name longer than the NBD limit of " + Handshake.MAX_NAME_BYTES
                        + " bytes: " + e.name());
            }
            this.exports.put(e.name(), e);
        }
        this.requested = List.copyOf(addresses);
        this.maxConnections = maxConnections;
        logWindow(LOG_WINDOW_MILLIS);
    }

    /** Tests: a shorter handshake deadline than 30 s; before {@link #start()}. */
    NbdServer handshakeTimeout(long millis) {
        handshakeMillis = millis;
        return this;
    }

    /** Tests: a shorter window for the limits on client-caused log lines; before {@link #start()}. */
    NbdServer logWindow(long millis) {
        refusedLog = new LimitedLog(LOG_LINES, millis, "refused connections");
        evictedLog = new LimitedLog(LOG_LINES, millis, "evicted handshakes");
        acceptLog = new LimitedLog(LOG_LINES, millis, "failed accepts");
        clientLog = new LimitedLog(CLIENT_LOG_LINES, millis, "client connection messages");
        failureLog = new LimitedLog(LOG_LINES, millis, "stage and target failures");
        return this;
    }

    /** TLS for every connection (NBD_OPT_STARTTLS); before {@link #start()}. */
    public NbdServer tls(NbdTls policy) {
        tls = java.util.Objects.requireNonNull(policy);
        return this;
    }

    NbdTls tls() {
        return tls;
    }

    long handshakeMillis() {
        return handshakeMillis;
    }

    /** The handshake deadline for messages: "30 s", "1.5 s". */
    String handshakeTimeText() {
        long ms = handshakeMillis;
        return (ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.valueOf(ms / 1000.0)) + " s";
    }

    /** Where a connection logs what its client caused (failed handshakes, protocol errors). */
    LimitedLog clientLog() {
        return clientLog;
    }

    /** Where connections log a stage or target that threw (a plugin's bug may throw on every request). */
    LimitedLog failureLog() {
        return failureLog;
    }

    /**
     * Serves on these already listening sockets (socket activation) instead of binding the addresses;
     * before {@link #start()}.
     */
    public NbdServer inherit(List<Integer> fds) {
        inheritedFds = List.copyOf(fds);
        return this;
    }

    /** Binds every address (or takes the inherited sockets) and starts accepting; on failure nothing stays bound. */
    public void start() throws IOException {
        try {
            for (int fd : inheritedFds) {
                Endpoint e = Sockets.boundAddress(fd);
                if (e == null) throw new IOException("passed fd " + fd + " is not bound to a path or TCP address");
                // accept wakes every half second to see a stop: shutting down the socket would end systemd's too
                Sockets.setTimeout(fd, 500);
                accept(new ListenAddress(e.unixPath(), e.host(), e.port()), fd, true);
            }
            for (ListenAddress a : inheritedFds.isEmpty() ? requested : List.<ListenAddress>of()) {
                if (a.isUnix()) {
                    Path p = Path.of(a.unixPath());
                    if (Files.exists(p)) {
                        if (Sockets.connectable(a.endpoint())) {
                            throw new IOException("NBD socket " + p + " is in use by another server; stop it "
                                    + "or listen elsewhere (nbd-listen in the YAML file, or up --nbd-listen)");
                        }
                        Files.delete(p); // left by a gateway that died
                    }
                    if (p.getParent() != null) Files.createDirectories(p.getParent());
                }
                int fd;
                try {
                    fd = Sockets.listen(a.endpoint(), 128);
                } catch (NativeException e) {
                    String hint = e.errno() == Errno.EADDRINUSE ? "; another server listens there: stop it or "
                            + "listen elsewhere (nbd-listen in the YAML file, or up --nbd-listen)" : "";
                    throw new IOException("cannot listen on " + a + ": " + e.getMessage() + hint);
                }
                accept(a.isUnix() ? a : a.withPort(Sockets.localPort(fd)), fd, false);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void accept(ListenAddress bound, int fd, boolean inherited) {
        Thread t = Thread.ofPlatform().name("nbd-accept-" + bound).unstarted(() -> acceptLoop(bound, fd));
        listeners.add(new Listener(bound, fd, t, inherited));
        t.start();
    }

    /** The addresses actually listened on (a TCP port 0 is replaced by the port the system chose). */
    public List<ListenAddress> addresses() {
        return listeners.stream().map(Listener::address).toList();
    }

    synchronized Export lookup(String name) {
        if (name.isEmpty()) return exports.values().iterator().next();
        return exports.get(name);
    }

    synchronized Iterable<Export> exports() {
        return java.util.List.copyOf(exports.values());
    }

    /** The export named {@code name} as new connections see it, or null. */
    public synchronized Export export(String name) {
        return exports.get(name);
    }

    /**
     * New connections see the export at {@code sizeBytes}. Connections already open keep the size they
     * were told at their handshake: NBD has no way to tell a client its export changed size.
     */
    public synchronized void resize(String name, long sizeBytes) {
        Export e = exports.get(name);
        if (e == null) throw new IllegalArgumentException("no export " + name);
        exports.put(name, new Export(e.name(), e.target(), sizeBytes, e.blockSize(), e.maxIoBytes(), e.depth(), e.queues(),
                e.multiConn(), e.readOnly()));
    }

    public int connectionCount() {
        return connections.size();
    }

    private void acceptLoop(ListenAddress address, int lfd) {
        while (!stopping) {
            int c = Sockets.accept(lfd);
            if (c < 0) {
                if (stopping) break;
                int errno = -c;
                if (errno == Errno.EINTR || errno == Errno.ECONNABORTED || errno == Errno.EAGAIN) continue;
                if (errno == Errno.EMFILE || errno == Errno.ENFILE || errno == Errno.ENOBUFS || errno == Errno.ENOMEM) { // out of fds/buffers: back off
                    acceptLog.log(LOG, Level.WARNING, "nbd " + address + ": accept failed ("
                            + Libc.describe(errno) + "); retrying (raise the open files "
                            + "limit, ulimit -n, above nbd-max-connections)");
                    sleep(100);
                    continue;
                }
                LOG.severe("nbd " + address + ": accept failed (errno " + errno + "); no longer accepting");
                break;
            }
            long acceptedNanos = System.nanoTime();
            NbdConnection conn = admit(c, Peer.of(c, address.isUnix()), acceptedNanos, address);
            if (conn == null) {
                Libc.close(c);
                continue;
            }
            if (!address.isUnix()) {
                Sockets.setInt(c, Sockets.IPPROTO_TCP, Sockets.TCP_NODELAY, 1);
                // A peer that vanished (host down, cable pulled) frees its slot after about 2 minutes of
                // silence instead of the system's default of over 2 hours; live idle clients answer the probes.
                Sockets.setInt(c, Sockets.IPPROTO_TCP, Sockets.TCP_KEEPIDLE, 60);
                Sockets.setInt(c, Sockets.IPPROTO_TCP, Sockets.TCP_KEEPINTVL, 10);
                Sockets.setInt(c, Sockets.IPPROTO_TCP, Sockets.TCP_KEEPCNT, 6);
            }
            Sockets.setInt(c, Sockets.SOL_SOCKET, Sockets.SO_KEEPALIVE, 1);
            // Room for a full pipeline of large requests, so a client keeps sending while this side is busy.
            Sockets.setBuffers(c, SOCKET_BUFFER);
            if (stopping) {
                connections.remove(conn);
                Libc.close(c);
                break;
            }
            conn.start();
        }
    }

    /**
     * Registers a new connection, making room for it when the server is full by evicting a connection
     * still in the handshake; null when every slot is held by an established connection.
     */
    private synchronized NbdConnection admit(int fd, Peer peer, long acceptedNanos, ListenAddress address) {
        int live = 0;
        for (NbdConnection c : connections) if (!c.evicted()) live++;
        if (live >= maxConnections) {
            NbdConnection victim;
            do {
                victim = evictionCandidate();
            } while (victim != null && !victim.evict()); // it may have become established meanwhile
            if (victim == null) {
                refusedLog.log(LOG, Level.WARNING, "nbd " + address + ": refusing a client from " + peer + ": all "
                        + maxConnections + " connections are established (raise nbd-max-connections)");
                return null;
            }
            evictedLog.log(LOG, Level.WARNING, "nbd " + address + ": all " + maxConnections + " connections taken: "
                    + "closed connection " + victim.id() + " from " + victim.peer() + ", "
                    + (acceptedNanos - victim.acceptedNanos) / 1_000_000 + " ms into its handshake, to admit a new "
                    + "client from " + peer + " (raise nbd-max-connections if these are real clients)");
        }
        NbdConnection conn = new NbdConnection(this, nextId.getAndIncrement(), fd, peer, acceptedNanos);
        connections.add(conn);
        return conn;
    }

    /**
     * The connection to evict for a newcomer: among those still in the handshake, the one waiting
     * longest of the peer group (address) that holds the most of them, so that a client opening many
     * connections pushes out its own, not the handshakes of others. Null when all are established.
     */
    private NbdConnection evictionCandidate() {
        Map<String, Integer> perGroup = new HashMap<>();
        for (NbdConnection c : connections) if (c.inHandshake()) perGroup.merge(c.peer().group(), 1, Integer::sum);
        NbdConnection best = null;
        int bestCount = 0;
        for (NbdConnection c : connections) {
            if (!c.inHandshake()) continue;
            int n = perGroup.getOrDefault(c.peer().group(), 0);
            if (n > bestCount || n == bestCount && best != null && c.acceptedNanos - best.acceptedNanos < 0) {
                best = c;
                bestCount = n;
            }
        }
        return best;
    }

    void ended(NbdConnection c) {
        connections.remove(c);
    }

    /** A request buffer area of {@code bytes}, from a finished connection when one has the size. */
    java.lang.foreign.MemorySegment takeBuffers(long bytes) throws dev.ublkgateway.core.sys.NativeException {
        for (var it = bufferPool.iterator(); it.hasNext(); ) {
            var m = it.next();
            if (m.byteSize() == bytes && bufferPool.remove(m)) return m;
        }
        return dev.ublkgateway.core.sys.Libc.mmap(bytes, dev.ublkgateway.core.sys.Libc.PROT_READ
                | dev.ublkgateway.core.sys.Libc.PROT_WRITE, dev.ublkgateway.core.sys.Libc.MAP_PRIVATE
                | dev.ublkgateway.core.sys.Libc.MAP_ANONYMOUS | dev.ublkgateway.core.sys.Libc.MAP_NORESERVE,
                -1, 0, "nbd request buffers");
    }

    /** Keeps a few buffer areas for later connections; the rest go back to the system. */
    void returnBuffers(java.lang.foreign.MemorySegment m) {
        if (!stopping && bufferPool.size() < 8) bufferPool.add(m);
        else dev.ublkgateway.core.sys.Libc.munmap(m);
    }

    /**
     * Stops listening, lets every connection finish and answer its in-flight requests, and waits for
     * them (the exports' targets can be closed afterwards).
     */
    @Override
    public void close() {
        stopping = true;
        for (Listener l : listeners) {
            if (!l.inherited()) Sockets.shutdown(l.fd());
            try {
                l.thread().join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Libc.close(l.fd());
            if (l.address().isUnix() && !l.inherited()) {
                try {
                    Files.deleteIfExists(Path.of(l.address().unixPath()));
                } catch (IOException ignored) {
                    // harmless: a later start replaces a stale socket
                }
            }
        }
        listeners.clear();
        for (NbdConnection c : List.copyOf(connections)) c.stop();
        for (java.lang.foreign.MemorySegment m; (m = bufferPool.poll()) != null; ) dev.ublkgateway.core.sys.Libc.munmap(m);
        long deadline = System.nanoTime() + 60_000_000_000L;
        for (NbdConnection c : List.copyOf(connections)) {
            try {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                if (!c.join(left)) LOG.warning("an NBD connection did not finish within 60 s");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
