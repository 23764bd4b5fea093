package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.*;

/** Reading a stopping gateway's flush progress and failures from the end of its log. */
class FlushLogTest {
    @TempDir
    Path dir;

    void append(Path log, String text) throws Exception {
        Files.writeString(log, text, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void progressOfEveryVolumeIsSummedAndOnlyNewLinesCount() throws Exception {
        Path log = dir.resolve("vol.log");
        append(log, "volume old: flushing, 999 bytes dirty left (0.0 MiB)\n");
        FlushLog f = FlushLog.fromEnd(log);
        f.poll();
        assertEquals(OptionalLong.empty(), f.left(), "what the log held before down is not this stop's");
        append(log, "volume a: flushing, 3000 bytes dirty left (0.0 MiB)\nINFO: something else\nvolume b: flushing, 500 by");
        f.poll();
        assertEquals(OptionalLong.of(3000), f.left(), "half a line waits for its end");
        append(log, "tes dirty left (0.0 MiB)\nvolume a: flushing, 1000 bytes dirty left (0.0 MiB)\n");
        f.poll();
        assertEquals(OptionalLong.of(1500), f.left());
        assertEquals(List.of(), f.failures());
    }

    @Test
    void aVolumeThatCouldNotBeStoredIsAFailureWithWhatIsLeftAndWhy() throws Exception {
        Path log = dir.resolve("vol.log");
        FlushLog f = FlushLog.fromEnd(log);
        append(log, "volume a: flushing, 3000 bytes dirty left (0.0 MiB)\n"
                + "Dec 06, 2026 2:00:00 AM dev.ublkgateway.plugins.chunked.ChunkedTarget flushForClose\n"
                + "SEVERE: volume a: 4.0 MiB could not be stored: put chunks/0/0: 503 Slow Down (4 attempts)\n"
                + "WARNING: a: close failed: volume a: 4.0 MiB could not be stored: put chunks/0/0: 503 Slow Down (4 attempts)\n");
        f.poll();
        assertEquals(List.of("volume a: 4.0 MiB could not be stored: put chunks/0/0: 503 Slow Down (4 attempts)"), f.failures(),
                "once, though the gateway logged it twice");
        assertEquals(OptionalLong.empty(), f.left(), "a failed volume no longer counts as flushing");
    }

    @Test
    void noLogNoProgress() {
        FlushLog f = FlushLog.fromEnd(dir.resolve("missing.log"));
        f.poll();
        assertEquals(OptionalLong.empty(), f.left());
    }
}
