package dev.ublkgateway.core.log;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class LogTextTest {
    @Test
    void aForgedLineStaysOnOneLine() {
        String forged = "x\n2026-12-05 10:00:00 SEVERE forged\r\u001b[31m\u2028";
        String s = LogText.oneLine(forged);
        assertFalse(s.chars().anyMatch(c -> c < 0x20 || c == 0x2028), s);
        assertEquals("x\\n2026-12-05 10:00:00 SEVERE forged\\r\\u001b[31m\\u2028", s);
    }

    @Test
    void longTextIsCutAndSaysHowMuchWasLeftOut() {
        String s = LogText.oneLine("a".repeat(100_000), 1024);
        assertTrue(s.startsWith("a".repeat(1024) + "... (98976 more characters)"), s.substring(1000));
        assertEquals(1024 + "... (98976 more characters)".length(), s.length());
    }

    @Test
    void plainTextIsUnchanged() {
        assertEquals("hello wörld", LogText.oneLine("hello wörld"));
        assertEquals("null", LogText.oneLine(null));
    }

    @Test
    void theLimiterPassesAFewLinesPerWindowAndCountsTheRest() {
        long[] now = {0};
        LogLimiter l = new LogLimiter(3, 200, () -> now[0]);
        assertEquals(0, l.admit());
        assertEquals(0, l.admit());
        assertEquals(0, l.admit());
        for (int i = 0; i < 50; i++) assertEquals(-1, l.admit());
        now[0] += 250_000_000L;
        assertEquals(50, l.admit(), "the first line of the next window reports what was dropped");
        assertEquals(0, l.admit());
    }
}
