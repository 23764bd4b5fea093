package dev.ublkgateway.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ControlSocketTest {
    @TempDir
    Path dir;

    @Test
    void answersOneLinePerRequestAndTurnsFailuresIntoErrorLines() throws Exception {
        Path p = dir.resolve("d.ctl");
        try (ControlSocket s = ControlSocket.listen(p, req -> {
            if (req.equals("boom")) throw new IOException("it broke\nbadly");
            return "got <" + req + ">";
        })) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            assertEquals("ok got <resize 42>", ControlSocket.request(p, "resize 42"));
            assertEquals("ok got <trimmed>", ControlSocket.request(p, "  trimmed  "));
            assertEquals("error it broke badly", ControlSocket.request(p, "boom"), "the answer stays one line");
            assertEquals("ok got <a b>", ControlSocket.request(p, "a\nb"), "a request is one line too");
            try (var stray = Files.list(dir)) {
                assertEquals(List.of(p), stray.toList(), "no temporary socket is left behind");
            }
        }
        assertFalse(Files.exists(p), "close removes the socket");
    }

    @Test
    void servesRequestsConcurrently() throws Exception {
        Path p = dir.resolve("c.ctl");
        CountDownLatch both = new CountDownLatch(2);
        try (ControlSocket s = ControlSocket.listen(p, req -> {
            both.countDown();
            assertTrue(both.await(10, TimeUnit.SECONDS), "a slow request holds up no other");
            return req;
        })) {
            List<Thread> ts = new ArrayList<>();
            List<String> answers = java.util.Collections.synchronizedList(new ArrayList<>());
            for (String r : List.of("one", "two")) {
                ts.add(Thread.ofVirtual().start(() -> {
                    try {
                        answers.add(ControlSocket.request(p, r));
                    } catch (IOException e) {
                        answers.add(e.toString());
                    }
                }));
            }
            for (Thread t : ts) t.join(15_000);
            assertEquals(List.of("ok one", "ok two"), answers.stream().sorted().toList());
        }
    }

    @Test
    void aLineThatIsTooLongOrCutShortIsRefused() throws Exception {
        Path p = dir.resolve("l.ctl");
        try (ControlSocket s = ControlSocket.listen(p, req -> "fine")) {
            String tooLong;
            try {
                tooLong = raw(p, "x".repeat(ControlSocket.MAX_LINE + 10) + "\n");
            } catch (java.net.SocketException e) {
                tooLong = "error the request is not one line (reset: the rest was never read)";
            }
            assertTrue(tooLong.startsWith("error the request is not one line"), tooLong);
            assertTrue(raw(p, "no newline").startsWith("error the request is not one line"));
        }
    }

    @Test
    void replacesASocketADeadGatewayLeftAndReportsANoAnswerClose() throws Exception {
        Path p = dir.resolve("r.ctl");
        Files.writeString(p, "stale");
        try (ControlSocket s = ControlSocket.listen(p, req -> "new")) {
            assertEquals("ok new", ControlSocket.request(p, "x"));
        }
        try (ControlSocket s = ControlSocket.listen(p, req -> {
            throw new Error("dies without answering"); // not an Exception: the connection just closes
        })) {
            IOException e = assertThrows(IOException.class, () -> ControlSocket.request(p, "x"));
            assertTrue(e.getMessage().contains("without an answer"), e.getMessage());
        }
        assertThrows(IOException.class, () -> ControlSocket.request(dir.resolve("none.ctl"), "x"));
    }

    /** Sends bytes as they are, half-closes, and reads the answer line. */
    private static String raw(Path p, String bytes) throws IOException {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(p));
            ByteBuffer b = ByteBuffer.wrap(bytes.getBytes(StandardCharsets.UTF_8));
            try {
                while (b.hasRemaining()) c.write(b);
                c.shutdownOutput();
            } catch (IOException e) {
                // the gateway may answer and close before reading it all
            }
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (c.read(in) >= 0) { }
            return new String(in.array(), 0, in.position(), StandardCharsets.UTF_8).strip();
        }
    }
}
