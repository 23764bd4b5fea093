package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

/** The progress printer on a terminal (one redrawn line with a bar) and in a log (plain periodic lines). */
class ProgressTest {
    static final long S = 1_000_000_000L, MIB = 1L << 20;
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long now = 100 * S;

    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void onATerminalOneLineIsRedrawnWithBarRateAndEta() {
        Progress p = new Progress("vol0: flushing", out, true, () -> now, 5 * S);
        p.left(100 * MIB);
        now += 2 * S;
        p.left(60 * MIB);
        p.finish("vol0: flushed all data");
        String t = text();
        assertFalse(t.contains("\n") && t.indexOf('\n') < t.length() - 1, "one line until the outcome: " + t.replace("\033", "ESC"));
        assertTrue(t.startsWith("\r\033[K[........................] vol0: flushing: 100.0 MiB left\r\033[K"), t.replace("\033", "ESC"));
        assertTrue(t.contains("[#########...............] vol0: flushing: 60.0 MiB left, 20.0 MiB/s, ETA 3 s"), t.replace("\033", "ESC"));
        assertTrue(t.endsWith("\r\033[Kvol0: flushed all data\n"), "the outcome replaces the bar: " + t.replace("\033", "ESC"));
    }

    @Test
    void elsewherePlainLinesComeAtMostEveryIntervalWithoutEscapes() {
        Progress p = new Progress("vol0: flushing", out, false, () -> now, 5 * S);
        p.left(3L << 30);
        now += S;
        p.left(2L << 30); // within the interval: not printed
        now += 4 * S;
        p.left(1L << 30);
        p.finish("vol0: flush failed");
        assertEquals("""
                vol0: flushing: 3.0 GiB left
                vol0: flushing: 1.0 GiB left, 409.6 MiB/s, ETA 3 s
                vol0: flush failed
                """, text());
    }

    @Test
    void aGivenTotalFillsTheBarAndTheRateCountsFromTheFirstReport() {
        Progress p = new Progress("vol0: discarding", out, true, () -> now, 5 * S);
        p.left(100 * MIB, 50 * MIB); // joined halfway: the bar shows it, the rate does not count it
        now += 2 * S;
        p.left(100 * MIB, 30 * MIB);
        String t = text();
        assertTrue(t.contains("[############............] vol0: discarding: 50.0 MiB left\r"), t.replace("\033", "ESC"));
        assertTrue(t.endsWith("[################........] vol0: discarding: 30.0 MiB left, 10.0 MiB/s, ETA 3 s"),
                t.replace("\033", "ESC"));
    }

    @Test
    void anOperationOfUnknownSizeShowsHowLongItRuns() {
        Progress p = new Progress("vol0: recovering", out, false, () -> now, 5 * S);
        p.left(0, 0);
        now += 65 * S;
        p.left(0, 0);
        assertEquals("vol0: recovering (0 s)\nvol0: recovering (1:05)\n", text());
    }

    @Test
    void unitsAndDurations() {
        assertEquals("512 B", Progress.bytes(512));
        assertEquals("1.5 KiB", Progress.bytes(1536));
        assertEquals("59 s", Progress.duration(59));
        assertEquals("2:05", Progress.duration(125));
        assertEquals("1:00:01", Progress.duration(3601));
    }
}
