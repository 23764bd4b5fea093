package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.MetricsSink;
import dev.ublkgateway.api.ObjectStore;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The volume's lease object: who serves the volume and when it last said so. A live lease held by
 * someone else refuses the open; a lease whose owner is a dead process on this host is taken over;
 * any other stale lease needs {@code --force-takeover}.
 */
final class Lease implements AutoCloseable {
    static final String KEY = "lease";
    static final long HEARTBEAT_MS = 5_000, STALE_MS = 30_000;
    private static final Logger LOG = Logger.getLogger(Lease.class.getName());

    private final ObjectStore store;
    private final String volume;
    private final String owner;
    private final Thread heartbeat;
    private volatile boolean lost, closed;
    // written by the heartbeat thread only, read when metrics are scraped
    private volatile long renewals, renewalFailures, renewedMillis;

    private Lease(ObjectStore store, String volume, String owner) {
        this.store = store;
        this.volume = volume;
        this.owner = owner;
        this.heartbeat = Thread.ofPlatform().daemon().name("lease-" + volume).unstarted(this::beat);
    }

    static String host() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** @param forceTakeover {@code up --force-takeover}: take the lease over whoever holds it */
    static Lease acquire(ObjectStore store, String volume, boolean recovering, boolean forceTakeover) throws IOException {
        String host = host();
        long pid = ProcessHandle.current().pid();
        String owner = host + ":" + pid + ":" + UUID.randomUUID();
        Optional<byte[]> existing = store.get(KEY);
        if (existing.isPresent()) {
            Properties p = new Properties();
            p.load(new StringReader(new String(existing.get(), StandardCharsets.UTF_8)));
            String other = p.getProperty("owner", "?");
            long beat = Long.parseLong(p.getProperty("heartbeat", "0"));
            long age = System.currentTimeMillis() - beat;
            String[] parts = other.split(":");
            boolean sameHostDead = parts.length == 3 && parts[0].equals(host)
                    && ProcessHandle.of(Long.parseLong(parts[1])).map(h -> !h.isAlive()).orElse(true);
            if (!(forceTakeover || sameHostDead)) {
                if (age < STALE_MS) {
                    throw new IOException("volume " + volume + " is in use by gateway " + other + " (heartbeat "
                            + TimeUnit.MILLISECONDS.toSeconds(age) + " s ago); stop that gateway first");
                }
                if (!recovering) {
                    throw new IOException("volume " + volume + " is leased by gateway " + other + " whose last heartbeat was "
                            + TimeUnit.MILLISECONDS.toSeconds(age) + " s ago; if it is dead, run up with --force-takeover");
                }
            }
            LOG.warning("volume " + volume + ": taking over the lease of " + other);
        }
        Lease l = new Lease(store, volume, owner);
        l.write();
        l.heartbeat.start();
        return l;
    }

    /**
     * Whether a gateway serves the volume now: its lease beat less than {@link #STALE_MS} ago and its owner
     * is not a dead process of this host.
     */
    static boolean served(ObjectStore store) throws IOException {
        Optional<byte[]> existing = store.get(KEY);
        if (existing.isEmpty()) return false;
        Properties p = new Properties();
        p.load(new StringReader(new String(existing.get(), StandardCharsets.UTF_8)));
        long age = System.currentTimeMillis() - Long.parseLong(p.getProperty("heartbeat", "0"));
        String[] parts = p.getProperty("owner", "?").split(":");
        boolean sameHostDead = parts.length == 3 && parts[0].equals(host())
                && ProcessHandle.of(Long.parseLong(parts[1])).map(h -> !h.isAlive()).orElse(true);
        return age < STALE_MS && !sameHostDead;
    }

    /** Who holds the volume's lease and how long ago it last beat, or empty when nobody does. */
    static Optional<String> holder(ObjectStore store) throws IOException {
        Optional<byte[]> existing = store.get(KEY);
        if (existing.isEmpty()) return Optional.empty();
        Properties p = new Properties();
        p.load(new StringReader(new String(existing.get(), StandardCharsets.UTF_8)));
        long age = System.currentTimeMillis() - Long.parseLong(p.getProperty("heartbeat", "0"));
        return Optional.of("gateway " + p.getProperty("owner", "?") + ", heartbeat " + TimeUnit.MILLISECONDS.toSeconds(age)
                + " s ago" + (age < STALE_MS ? "" : " (stale: the gateway may be dead)"));
    }

    private void write() throws IOException {
        byte[] b = ("owner=" + owner + "\nheartbeat=" + System.currentTimeMillis() + "\n").getBytes(StandardCharsets.UTF_8);
        store.put(KEY, b, 0, b.length);
        renewedMillis = System.currentTimeMillis();
    }

    private void beat() {
        while (!closed) {
            try {
                Thread.sleep(HEARTBEAT_MS);
                if (closed) return;
                Optional<byte[]> cur = store.get(KEY);
                if (cur.isPresent() && !new String(cur.get(), StandardCharsets.UTF_8).contains("owner=" + owner + "\n")) {
                    if (!lost) LOG.severe("volume " + volume + ": another gateway took over the lease; writes now fail");
                    lost = true;
                    continue;
                }
                write();
                renewals++;
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                renewalFailures++;
                LOG.log(Level.WARNING, "volume " + volume + ": lease heartbeat failed: " + e.getMessage());
            }
        }
    }

    /** The lease's state and heartbeats, for the metrics endpoint. */
    void report(MetricsSink sink) {
        sink.gauge("chunked_lease_held", "1 while this gateway holds the volume's lease, 0 once another took it over or it was released",
                lost || closed ? 0 : 1);
        sink.counter("chunked_lease_renewals_total", "Heartbeats that renewed the lease", renewals);
        sink.counter("chunked_lease_renewal_failures_total", "Heartbeats that could not reach the store", renewalFailures);
        sink.gauge("chunked_lease_renewed_timestamp_seconds", "When the lease was last written (Unix time)", renewedMillis / 1000.0);
    }

    /** True when another gateway took the volume over: this one must not write any more. */
    boolean lost() {
        return lost;
    }

    /** Stops the heartbeat and deletes the lease (if still ours). */
    @Override
    public void close() throws IOException {
        closed = true;
        heartbeat.interrupt();
        try {
            heartbeat.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!lost) store.delete(KEY);
    }
}
