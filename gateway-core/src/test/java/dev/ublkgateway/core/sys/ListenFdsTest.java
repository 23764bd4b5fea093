package dev.ublkgateway.core.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ListenFdsTest {
    @TempDir
    Path tmp;

    @Test
    void theFdsFromThreeWhenListenPidIsUs() {
        assertEquals(List.of(3, 4), ListenFds.parse(Map.of("LISTEN_FDS", "2", "LISTEN_PID", "42"), 42));
        assertEquals(List.of(), ListenFds.parse(Map.of("LISTEN_FDS", "2", "LISTEN_PID", "41"), 42),
                "sockets passed to another process (our parent) are not ours");
        assertEquals(List.of(), ListenFds.parse(Map.of("LISTEN_FDS", "2"), 42));
        assertEquals(List.of(), ListenFds.parse(Map.of(), 42));
    }

    @Test
    void aBadCountIsAOneLineError() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> ListenFds.parse(Map.of("LISTEN_FDS", "two", "LISTEN_PID", "42"), 42));
        assertTrue(e.getMessage().startsWith("LISTEN_FDS=two is not a count"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ListenFds.parse(Map.of("LISTEN_FDS", "-1", "LISTEN_PID", "42"), 42));
    }

    @Test
    void aListeningSocketPassesAndItsAddressIsKnown() throws Exception {
        String path = tmp.resolve("l.sock").toString();
        int fd = Sockets.listen(new Endpoint(path, null, 0), 4);
        try {
            ListenFds.checkListening(fd);
            assertEquals(new Endpoint(path, null, 0), Sockets.boundAddress(fd));
        } finally {
            Libc.close(fd);
        }
        int tcp = Sockets.listen(Endpoint.parse("127.0.0.1:0", 0), 4);
        try {
            ListenFds.checkListening(tcp);
            assertEquals(new Endpoint(null, "127.0.0.1", Sockets.localPort(tcp)), Sockets.boundAddress(tcp));
        } finally {
            Libc.close(tcp);
        }
    }

    @Test
    void aDatagramSocketIsRefused() throws Exception {
        int fd = Sockets.bindDatagram(tmp.resolve("d.sock").toString());
        try {
            var e = assertThrows(IllegalArgumentException.class, () -> ListenFds.checkListening(fd));
            assertTrue(e.getMessage().contains("not a listening stream socket"), e.getMessage());
        } finally {
            Libc.close(fd);
        }
    }
}
