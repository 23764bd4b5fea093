package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.plugins.chunked.store.MemoryStore;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** Who may attach a volume: live, stale and dead owners, and --force-takeover. */
class LeaseTest {
    final MemoryStore store = new MemoryStore();

    void leaseOf(String owner, long ageMillis) {
        byte[] b = ("owner=" + owner + "\nheartbeat=" + (System.currentTimeMillis() - ageMillis) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        store.put(Lease.KEY, b, 0, b.length);
    }

    String lease() {
        return new String(store.get(Lease.KEY).orElseThrow(), StandardCharsets.UTF_8);
    }

    static long deadPid() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        return p.pid();
    }

    @Test
    void aFreeVolumeIsLeasedAndReleased() throws Exception {
        Lease l = Lease.acquire(store, "v", false, false);
        assertTrue(lease().startsWith("owner=" + Lease.host() + ":" + ProcessHandle.current().pid() + ":"), lease());
        assertFalse(l.lost());
        l.close();
        assertTrue(store.get(Lease.KEY).isEmpty(), "closing deletes the lease");
    }

    @Test
    void aLiveOwnerElsewhereIsRefused() {
        leaseOf("otherhost:42:abc", 1_000);
        IOException e = assertThrows(IOException.class, () -> Lease.acquire(store, "v", false, false));
        assertTrue(e.getMessage().startsWith("volume v is in use by gateway otherhost:42:abc (heartbeat 1 s ago)"), e.getMessage());
        assertThrows(IOException.class, () -> Lease.acquire(store, "v", true, false), "recovery does not take a live lease");
        assertTrue(lease().contains("otherhost:42:abc"), "the refused open left the lease alone");
    }

    @Test
    void aStaleOwnerElsewhereNeedsForceTakeover() throws Exception {
        leaseOf("otherhost:42:abc", Lease.STALE_MS + 30_000);
        IOException e = assertThrows(IOException.class, () -> Lease.acquire(store, "v", false, false));
        assertTrue(e.getMessage().contains("whose last heartbeat was 60 s ago; if it is dead, run up with --force-takeover"),
                e.getMessage());
        try (Lease l = Lease.acquire(store, "v", false, true)) {
            assertTrue(lease().contains("owner=" + Lease.host() + ":" + ProcessHandle.current().pid()), lease());
        }
    }

    @Test
    void recoveryTakesOverAStaleLease() throws Exception {
        leaseOf("otherhost:42:abc", Lease.STALE_MS + 5_000);
        try (Lease l = Lease.acquire(store, "v", true, false)) {
            assertFalse(lease().contains("otherhost"), lease());
        }
    }

    @Test
    void aDeadOwnerOnThisHostIsTakenOverEvenWithAFreshHeartbeat() throws Exception {
        leaseOf(Lease.host() + ":" + deadPid() + ":abc", 500);
        try (Lease l = Lease.acquire(store, "v", false, false)) {
            assertTrue(lease().contains(":" + ProcessHandle.current().pid() + ":"), lease());
        }
    }

    @Test
    void aLiveOwnerOnThisHostIsRefusedUnlessForced() throws Exception {
        leaseOf(Lease.host() + ":" + ProcessHandle.current().pid() + ":someone-else", 500);
        assertThrows(IOException.class, () -> Lease.acquire(store, "v", false, false));
        Lease.acquire(store, "v", false, true).close();
    }

    @Test
    void anOwnerWhoseLeaseWasTakenNoticesAndLeavesTheNewLeaseAlone() throws Exception {
        Lease first = Lease.acquire(store, "v", false, false);
        leaseOf("otherhost:7:new-owner", 0); // taken over by force elsewhere
        for (int i = 0; i < 200 && !first.lost(); i++) Thread.sleep(50); // one heartbeat: 5 s
        assertTrue(first.lost(), "the heartbeat noticed the takeover");
        first.close();
        assertTrue(lease().contains("new-owner"), "the old owner did not delete the new owner's lease");
    }
}
