package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.runtime.OperationProgress;
import dev.ublkgateway.core.runtime.ProgressFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** What `down`, `up`/`recover` and `progress` read from the gateways' progress files. */
class OperationWatchTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    final long me = ProcessHandle.current().pid();

    static OperationProgress flush(long total, long done, long startedAt, String state, String failure) {
        return new OperationProgress("flush", total, done, startedAt, startedAt, state, failure);
    }

    @Test
    void followsTheChosenOperationsShowsThemAndTellsHowTheyEnded() throws Exception {
        OperationWatch w = new OperationWatch(dir, op -> op.startedAt() >= 100,
                label -> new Progress(label, out, false, () -> 0, 1));
        // a flush from before (another stop) does not count
        new ProgressFile("a", me, List.of(flush(10, 0, 50, "failed", "old"), flush(8 << 20, 2 << 20, 100, "running", null))).write(dir);
        new ProgressFile("b", me, List.of(flush(4 << 20, 0, 120, "running", null))).write(dir);
        assertTrue(w.poll(List.of("a", "b", "missing")));
        assertEquals(10L << 20, w.left(), "6 MiB left on a, 4 MiB on b");
        assertFalse(w.poll(List.of("a", "b")), "nothing changed");
        new ProgressFile("a", me, List.of(flush(8 << 20, 8 << 20, 100, "done", null))).write(dir);
        new ProgressFile("b", me, List.of(flush(4 << 20, 1 << 20, 120, "failed", "volume b: 3.0 MiB could not be stored: gone"))).write(dir);
        assertTrue(w.poll(List.of("a", "b")));
        assertEquals(0, w.left());
        assertEquals(List.of("volume b: 3.0 MiB could not be stored: gone"), w.failures());
        w.finishAll();
        assertEquals("""
                a: flushing: 6.0 MiB left
                b: flushing: 4.0 MiB left
                a: flush done
                b: flush failed: volume b: 3.0 MiB could not be stored: gone
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void labelsNameWhatTheDeviceDoes() {
        assertEquals("v: flushing", OperationWatch.label("v", "flush"));
        assertEquals("v: recovering", OperationWatch.label("v", "recovery"));
        assertEquals("v: draining the cache", OperationWatch.label("v", "cache-drain"));
        assertEquals("v: discarding", OperationWatch.label("v", "discard"));
        assertEquals("v: scrub", OperationWatch.label("v", "scrub"));
    }
}
