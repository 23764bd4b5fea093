package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.ProgressReporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/** The progress state file: written atomically, read back as written, and what a reader derives from it. */
class ProgressFileTest {
    @TempDir
    Path dir;

    static OperationProgress op(long total, long done, long at) {
        return new OperationProgress("flush", total, done, 1000, at, OperationProgress.RUNNING, null);
    }

    @Test
    void whatIsWrittenReadsBackAndNoTemporaryFileStays() throws Exception {
        ProgressFile f = new ProgressFile("vol0", 42, List.of(op(100, 40, 2000),
                new OperationProgress("discard", 8, 8, 500, 900, OperationProgress.FAILED, "volume vol0: gone")));
        f.write(dir);
        assertEquals(f, ProgressFile.read(dir, "vol0").orElseThrow());
        try (var files = Files.list(dir)) {
            assertEquals(List.of(dir.resolve("vol0.progress.json")), files.toList());
        }
        assertTrue(ProgressFile.read(dir, "other").isEmpty());
        ProgressFile.remove(dir, "vol0");
        assertTrue(ProgressFile.read(dir, "vol0").isEmpty());
    }

    @Test
    void aDeviceLetGoTakesItsFileAlongUnlessAnOperationFailed() throws Exception {
        new ProgressFile("ok0", 42, List.of(new OperationProgress("flush", 8, 8, 500, 900, OperationProgress.DONE, null))).write(dir);
        new ProgressFile("bad0", 42, List.of(new OperationProgress("flush", 8, 2, 500, 900, OperationProgress.FAILED, "S3 gone"))).write(dir);
        new StateStore(dir).remove("ok0");
        new StateStore(dir).remove("bad0");
        assertTrue(ProgressFile.read(dir, "ok0").isEmpty(), "a clean stop leaves no progress file behind");
        assertEquals("S3 gone", ProgressFile.read(dir, "bad0").orElseThrow().operations().getFirst().failure(),
                "a failure stays for down to tell");
    }

    @Test
    void aReaderNeverSeesHalfAFile() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger(), bad = new AtomicInteger();
        new ProgressFile("vol0", 1, List.of(op(1 << 20, 0, 0))).write(dir);
        Thread reader = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                if (ProgressFile.read(dir, "vol0").isEmpty()) bad.incrementAndGet();
                reads.incrementAndGet();
            }
        });
        // many operations make a file too long to be written in one go
        for (int i = 0; i < 300; i++) {
            List<OperationProgress> ops = new java.util.ArrayList<>();
            for (int j = 0; j < 50; j++) ops.add(op(1 << 20, i, i));
            new ProgressFile("vol0", 1, ops).write(dir);
        }
        stop.set(true);
        reader.join();
        assertTrue(reads.get() > 0);
        assertEquals(0, bad.get(), "reads that found a partial or missing file, of " + reads.get());
    }

    @Test
    void rateAndTimeLeftComeFromTwoSamples() {
        OperationProgress a = op(100 << 20, 20 << 20, 10_000), b = op(100 << 20, 60 << 20, 12_000);
        assertEquals(20.0 * (1 << 20), OperationProgress.rate(a, b).orElseThrow(), 1e-6); // 40 MiB in 2 s
        assertEquals(2, OperationProgress.eta(a, b).orElseThrow()); // 40 MiB left at 20 MiB/s
        assertEquals(40L << 20, b.left());
        assertTrue(OperationProgress.rate(a, a).isEmpty(), "no time passed");
        assertTrue(OperationProgress.rate(b, op(100 << 20, 60 << 20, 15_000)).isEmpty(), "nothing done: no rate");
        assertTrue(OperationProgress.eta(b, op(100 << 20, 60 << 20, 15_000)).isEmpty());
    }

    @Test
    void theBoardWritesAStartAtOnceProgressAtMostEveryIntervalAndEveryEnd() throws Exception {
        AtomicLong now = new AtomicLong(1_000);
        ProgressBoard board = new ProgressBoard(dir, "vol0", ProcessHandle.current().pid(), now::get);
        ProgressReporter.Progress p = board.start(ProgressReporter.FLUSH, 1000);
        assertEquals(List.of(new OperationProgress("flush", 1000, 0, 1000, 1000, "running", null)), read());
        now.addAndGet(100);
        p.advance(300); // within the interval: counted, not written
        assertEquals(0, read().getFirst().done());
        now.addAndGet(ProgressBoard.EVERY_MS);
        p.advance(200);
        assertEquals(new OperationProgress("flush", 1000, 500, 1000, 1350, "running", null), read().getFirst());
        assertEquals(List.of(new OperationProgress("flush", 1000, 500, 1000, 1350, "running", null)),
                ProgressFile.read(dir, "vol0").orElseThrow().running(), "this process is alive: it runs");
        now.addAndGet(10);
        p.done(); // an end is always written, with nothing left
        assertEquals(new OperationProgress("flush", 1000, 1000, 1000, 1360, "done", null), read().getFirst());
        ProgressReporter.Progress q = board.start(ProgressReporter.DISCARD, 0);
        q.failed("volume vol0: discard at 0 failed: gone");
        assertEquals(List.of("done", "failed"), read().stream().map(OperationProgress::state).toList());
        assertEquals("volume vol0: discard at 0 failed: gone", read().getLast().failure());
    }

    @Test
    void aDeadGatewaysOperationsDoNotRun() throws Exception {
        new ProgressFile("vol0", Long.MAX_VALUE - 1, List.of(op(10, 1, 1))).write(dir);
        assertEquals(List.of(), ProgressFile.read(dir, "vol0").orElseThrow().running());
    }

    @Test
    void finishedOperationsAreKeptUpToALimit() {
        AtomicLong now = new AtomicLong();
        ProgressBoard board = new ProgressBoard(dir, "vol0", 1, now::get);
        ProgressReporter.Progress running = board.start(ProgressReporter.FLUSH, 10);
        for (int i = 0; i < 20; i++) board.start(ProgressReporter.DISCARD, i).done();
        running.advance(1);
        List<OperationProgress> ops = read();
        assertEquals(ProgressBoard.KEEP_FINISHED + 1, ops.size(), "the running one and the newest finished: " + ops);
        assertEquals("flush", ops.getFirst().operation());
        assertEquals(19, ops.getLast().total());
    }

    List<OperationProgress> read() {
        return ProgressFile.read(dir, "vol0").orElseThrow().operations();
    }
}
