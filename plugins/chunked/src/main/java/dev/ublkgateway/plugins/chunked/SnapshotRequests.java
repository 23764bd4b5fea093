package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ObjectStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.Logger;

/**
 * How {@code volume snapshot} reaches the gateway serving a volume: it stores object
 * {@code snapshots/requests/SNAP}; the gateway looks for requests every few seconds, takes each (a FLUSH
 * barrier, then the manifest) and deletes the request, or stores {@code snapshots/requests/SNAP.failed}
 * with the reason. Through the store, so it works wherever the CLI runs and needs no run directory.
 */
final class SnapshotRequests {
    private static final Logger LOG = Logger.getLogger(SnapshotRequests.class.getName());
    static final String FAILED = ".failed";

    /** Takes one snapshot: flushes, then stores the manifest. */
    interface Taker {
        void take(String name) throws IOException;
    }

    private final ObjectStore store;
    private final String volume;
    private final Taker taker;
    private final Thread thread;
    private volatile boolean closed;

    SnapshotRequests(ObjectStore store, String volume, long pollMillis, Taker taker) {
        this.store = store;
        this.volume = volume;
        this.taker = taker;
        this.thread = Thread.ofPlatform().daemon().name("snapshot-requests-" + volume).unstarted(() -> loop(pollMillis));
    }

    void start() {
        thread.start();
    }

    void stop() {
        closed = true;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void loop(long pollMillis) {
        while (!closed) {
            try {
                Thread.sleep(pollMillis);
                poll();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                LOG.warning("volume " + volume + ": looking for snapshot requests failed: " + e.getMessage());
            }
        }
    }

    /** Takes every request stored now; returns how many it took. */
    int poll() throws IOException {
        int taken = 0;
        for (String k : store.list(Snapshot.REQUESTS, false)) {
            String name = k.substring(Snapshot.REQUESTS.length());
            if (name.endsWith(FAILED) || name.isEmpty() || name.endsWith("/")) continue;
            try {
                Snapshot.checkName(name);
                taker.take(name);
                taken++;
                LOG.info("volume " + volume + ": took snapshot " + name);
            } catch (IOException | RuntimeException e) {
                LOG.warning("volume " + volume + ": snapshot " + name + " failed: " + e.getMessage());
                byte[] b = String.valueOf(e.getMessage()).getBytes(StandardCharsets.UTF_8);
                store.put(k + FAILED, b, 0, b.length);
            } finally {
                store.delete(k);
            }
        }
        return taken;
    }
}
