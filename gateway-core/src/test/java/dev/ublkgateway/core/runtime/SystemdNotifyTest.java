package dev.ublkgateway.core.runtime;

import dev.ublkgateway.core.sys.Libc;
import dev.ublkgateway.core.sys.Sockets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.*;

/** The messages arrive on a real unix datagram socket, as systemd's would. */
class SystemdNotifyTest {
    @TempDir
    Path tmp;

    private int listener = -1;

    @AfterEach
    void closeListener() {
        if (listener >= 0) Libc.close(listener);
    }

    /** The next datagram on the listener, or null when none comes within {@code millis}. */
    private String receive(long millis) {
        Sockets.setTimeout(listener, millis);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            long n = Sockets.recv(listener, buf, Sockets.callState(a));
            return n < 0 ? null : new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.UTF_8);
        }
    }

    @Test
    void readyStatusAndStoppingGoToASocketFile() throws Exception {
        String path = tmp.resolve("notify").toString();
        listener = Sockets.bindDatagram(path);
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", path), Libc.getpid());
        assertTrue(n.enabled());
        n.ready("2 device(s) serving from a.yaml");
        assertEquals("READY=1\nSTATUS=2 device(s) serving from a.yaml\nMAINPID=" + Libc.getpid(), receive(2000));
        n.stopping();
        n.stopping();
        assertEquals("STOPPING=1", receive(2000));
        assertNull(receive(200), "STOPPING=1 is sent once");
    }

    @Test
    void aHandOffNamesTheSuccessorAndSaysNothingMore() throws Exception {
        String path = tmp.resolve("notify").toString();
        listener = Sockets.bindDatagram(path);
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", path), Libc.getpid());
        n.ready("1 device(s) serving from a.yaml");
        receive(2000);
        n.handOff(4242);
        assertEquals("MAINPID=4242", receive(2000));
        n.stopping(); // the shutdown hook's: the unit is the successor's now
        n.handOff(4343);
        assertNull(receive(200), "no STOPPING=1 and no second MAINPID= after a hand-off");
    }

    @Test
    void anAbstractSocketIsNamedWithAnAt() throws Exception {
        String name = "@ublkgw-notify-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
        listener = Sockets.bindDatagram(name);
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", name), Libc.getpid());
        assertTrue(n.send("STATUS=hello"));
        assertEquals("STATUS=hello", receive(2000));
    }

    @Test
    void watchdogPingsAtHalfTheIntervalUntilStopping() throws Exception {
        String path = tmp.resolve("notify").toString();
        listener = Sockets.bindDatagram(path);
        int pid = Libc.getpid();
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", path, "WATCHDOG_USEC", "400000",
                "WATCHDOG_PID", Integer.toString(pid)), pid);
        assertEquals(400_000, n.watchdogMicros());
        long start = System.nanoTime();
        n.ready("up");
        assertTrue(receive(2000).startsWith("READY=1\n"));
        assertEquals("WATCHDOG=1", receive(2000));
        assertEquals("WATCHDOG=1", receive(2000));
        assertEquals("WATCHDOG=1", receive(2000));
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(elapsedMs >= 350 && elapsedMs < 1500, "three pings 200 ms apart took " + elapsedMs + " ms");
        n.stopping();
        String last;
        do {
            last = receive(2000);
        } while ("WATCHDOG=1".equals(last));
        assertEquals("STOPPING=1", last);
        assertNull(receive(600), "no pings after STOPPING=1");
    }

    @Test
    void anotherProcesssWatchdogIsNotOurs() throws Exception {
        String path = tmp.resolve("notify").toString();
        listener = Sockets.bindDatagram(path);
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", path, "WATCHDOG_USEC", "100000",
                "WATCHDOG_PID", "1"), Libc.getpid());
        assertEquals(0, n.watchdogMicros());
        n.ready("up");
        assertTrue(receive(2000).startsWith("READY=1\n"));
        assertNull(receive(400), "no pings for a watchdog that names another process");
        n.close();
    }

    @Test
    void withoutNotifySocketNothingIsSent() {
        SystemdNotify n = SystemdNotify.from(Map.of("WATCHDOG_USEC", "100000"), Libc.getpid());
        assertFalse(n.enabled());
        assertEquals(0, n.watchdogMicros());
        assertFalse(n.send("READY=1"));
        n.ready("up");
        n.stopping();
    }

    @Test
    void aSocketNobodyListensOnIsLoggedNotFatal() {
        SystemdNotify n = SystemdNotify.from(Map.of("NOTIFY_SOCKET", tmp.resolve("absent").toString()), Libc.getpid());
        assertTrue(n.enabled());
        assertFalse(n.send("READY=1"));
    }
}
