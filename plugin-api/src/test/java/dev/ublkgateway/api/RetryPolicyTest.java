package dev.ublkgateway.api;

import org.junit.jupiter.api.Test;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

/** Attempts, backoff with jitter, which failures are retried, and the time limit. */
class RetryPolicyTest {
    static final RetryPolicy FAST = new RetryPolicy(4, Duration.ofMillis(1), Duration.ofMillis(4), Duration.ofSeconds(5));

    /** A call that fails {@code failures} times with {@code error}, then answers "ok". */
    static RetryPolicy.Call<String> failing(int failures, AtomicInteger calls, IOException error) {
        return () -> {
            if (calls.incrementAndGet() <= failures) throw error;
            return "ok";
        };
    }

    @Test
    void aCallThatFailsFewerTimesThanTheAttemptsSucceeds() throws IOException {
        AtomicInteger calls = new AtomicInteger();
        assertEquals("ok", FAST.run("put", failing(3, calls, new IOException("503"))));
        assertEquals(4, calls.get(), "three failures, then the fourth attempt");
    }

    @Test
    void aCallThatKeepsFailingStopsAtMaxAttemptsWithTheLastErrorAndTheCount() {
        AtomicInteger calls = new AtomicInteger();
        IOException e = assertThrows(IOException.class, () -> FAST.run("put", failing(99, calls, new IOException("503 SlowDown"))));
        assertEquals(4, calls.get());
        assertEquals("503 SlowDown (4 attempts)", e.getMessage());
    }

    @Test
    void aPermanentFailureIsNotRetried() {
        AtomicInteger calls = new AtomicInteger();
        FileNotFoundException missing = new FileNotFoundException("/vol/x");
        IOException e = assertThrows(IOException.class, () -> FAST.run("get", failing(99, calls, missing)));
        assertEquals(1, calls.get());
        assertSame(missing, e, "a single attempt reports the error as it is");
        assertTrue(RetryPolicy.retryable(new IOException("connection reset")));
        assertFalse(RetryPolicy.retryable(new java.nio.file.AccessDeniedException("/vol")));
    }

    @Test
    void noneMakesOneAttempt() {
        AtomicInteger calls = new AtomicInteger();
        assertThrows(IOException.class, () -> RetryPolicy.NONE.run("put", failing(1, calls, new IOException("x"))));
        assertEquals(1, calls.get());
        assertFalse(RetryPolicy.NONE.retries());
        assertTrue(RetryPolicy.DEFAULT.retries());
    }

    @Test
    void theTimeLimitEndsRetriesBeforeTheAttemptsDo() {
        RetryPolicy slow = new RetryPolicy(1000, Duration.ofMillis(50), Duration.ofMillis(50), Duration.ofMillis(300));
        AtomicInteger calls = new AtomicInteger();
        long t0 = System.nanoTime();
        assertThrows(IOException.class, () -> slow.run("put", failing(9999, calls, new IOException("down"))));
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 2_000, "stopped near the 300 ms limit, took " + ms + " ms");
        assertTrue(calls.get() > 1 && calls.get() < 1000, "retried until the limit: " + calls.get() + " calls");
    }

    @Test
    void delaysGrowExponentiallyUpToTheCapWithFullJitter() {
        RetryPolicy p = new RetryPolicy(10, Duration.ofMillis(100), Duration.ofSeconds(1), Duration.ofMinutes(1));
        SplittableRandom random = new SplittableRandom(1);
        long[] most = new long[8];
        boolean belowHalf = false;
        for (int i = 0; i < 2000; i++) {
            for (int retry = 1; retry <= 7; retry++) {
                long ms = p.delay(retry, random).toMillis();
                long ceiling = Math.min(1000, 100L << (retry - 1));
                assertTrue(ms >= 0 && ms <= ceiling, "retry " + retry + ": " + ms + " ms, ceiling " + ceiling);
                most[retry] = Math.max(most[retry], ms);
                belowHalf |= ms < ceiling / 2;
            }
        }
        assertTrue(most[1] > 80 && most[3] > 350 && most[7] > 900, "the ceilings are reached: " + java.util.Arrays.toString(most));
        assertTrue(belowHalf, "jitter spreads the delays below the ceiling");
        RetryPolicy hours = new RetryPolicy(99, Duration.ofHours(1), Duration.ofHours(2), Duration.ZERO);
        for (int retry : new int[] {1, 40, 64, 1000}) {
            Duration d = hours.delay(retry, random);
            assertTrue(!d.isNegative() && d.compareTo(Duration.ofHours(2)) <= 0, "retry " + retry + " stays within the cap: " + d);
        }
    }

    @Test
    void badValuesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO, Duration.ZERO));
        assertEquals("maxAttempts is 0; it must be at least 1", e.getMessage());
    }
}
