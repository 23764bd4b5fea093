package dev.ublkgateway.core.uring;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MailboxTest {
    private static final long WAKE = 7;

    /** Events posted from other threads wake the ring's owner once, and all of them are drained. */
    @Test
    void postsFromOtherThreadsWakeTheOwner() throws Exception {
        try (Ring ring = Ring.create(8, 0); Mailbox box = new Mailbox("test", 16)) {
            box.arm(ring, WAKE);
            Thread other = Thread.ofPlatform().start(() -> {
                box.complete(3, -5);
                box.resume(9);
                box.complete(0, 4096);
            });
            other.join();
            List<String> got = new ArrayList<>();
            Mailbox.Receiver r = new Mailbox.Receiver() {
                @Override public void completed(int tag, int result) { got.add(tag + "=" + result); }
                @Override public void resumed(int tag) { got.add(tag + " resumed"); }
            };
            long[] woke = {0};
            ring.submitAndWait(1);
            ring.reap((ud, res, fl) -> {
                assertEquals(WAKE, ud);
                assertEquals(8, res); // the eventfd's 8-byte counter
                woke[0]++;
                box.drain(r);
            });
            assertEquals(1, woke[0]);
            assertEquals(List.of("0=4096", "3=-5", "9 resumed"), got);
            got.clear();
            box.drain(r);
            assertTrue(got.isEmpty(), "drained slots stay empty");
        }
    }

    /** After close a late post or wake is a no-op, not a write to a closed (maybe reused) fd. */
    @Test
    void closedMailboxIgnoresLatePosts() throws Exception {
        Mailbox box = new Mailbox("test", 4);
        box.close();
        box.complete(1, 0);
        box.wake();
        box.close();
        List<Integer> got = new ArrayList<>();
        box.drain(new Mailbox.Receiver() {
            @Override public void completed(int tag, int result) { got.add(tag); }
            @Override public void resumed(int tag) { got.add(-tag); }
        });
        assertEquals(List.of(1), got); // the slot still says what was posted; only the wake-up is gone
    }
}
