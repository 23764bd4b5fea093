package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.targets.MemoryTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The NBD client against this project's NBD server and against nbdkit (real processes): concurrent
 * reads and writes, zeroing with and without WRITE_ZEROES, flush, and the one-line errors for an unknown
 * export, a failing server, a closed connection, TLS and bad URIs.
 */
class NbdClientTest {
    static final long SIZE = 64L << 20;

    @TempDir
    Path dir;
    final List<Process> servers = new ArrayList<>();
    NbdServer server;
    Target mem;

    @AfterEach
    void stop() throws Exception {
        for (Process p : servers) {
            p.destroy();
            p.waitFor();
        }
        if (server != null) server.close();
        if (mem != null) mem.close();
    }

    /** This project's server with export mem0, on a Unix socket and a TCP port; the TCP URI. */
    String ownServer() throws Exception {
        mem = new MemoryTarget(dir.resolve("mem0.mem"), SIZE);
        String sock = dir.resolve("own.sock").toString();
        server = new NbdServer(List.of(new Export("mem0", mem, SIZE, 512, 1 << 20, 64, 2, true, false)),
                List.of(ListenAddress.parse("unix:" + sock), ListenAddress.parse("127.0.0.1:0")), 16);
        server.start();
        return "nbd://127.0.0.1:" + server.addresses().get(1).port() + "/mem0";
    }

    /** nbdkit on a Unix socket with {@code args} (plugin, filters, parameters); its nbd+unix URI. */
    String nbdkit(String name, String... args) throws Exception {
        Tools.require("nbdkit");
        Path sock = dir.resolve(name + ".sock");
        List<String> cmd = new ArrayList<>(List.of("nbdkit", "-f", "-U", sock.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile()).start();
        servers.add(p);
        for (int i = 0; i < 200 && !Files.exists(sock); i++) Thread.sleep(25);
        assertTrue(Files.exists(sock), "nbdkit did not start: " + Files.readString(dir.resolve(name + ".log")));
        return "nbd+unix:///?socket=" + sock;
    }

    /** Writes random data from 8 threads at once, zeroes part of it, reads it all back and compares. */
    static void roundTrip(String uri) throws Exception {
        byte[] image = new byte[(int) SIZE];
        new Random(7).nextBytes(image);
        Arrays.fill(image, 8 << 20, 12 << 20, (byte) 0);
        try (NbdClient c = NbdClient.connect(NbdUri.parse(uri)); ExecutorService pool = Executors.newFixedThreadPool(8)) {
            assertEquals(SIZE, c.size());
            assertTrue(c.writable());
            int piece = 3 << 20; // larger than one request: split and pipelined
            List<Future<?>> fs = new ArrayList<>();
            for (int off = 0; off < SIZE; off += piece) {
                int o = off, n = (int) Math.min(piece, SIZE - off);
                fs.add(pool.submit(() -> {
                    byte[] b = Arrays.copyOfRange(image, o, o + n);
                    c.write(o, b, n);
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
            c.writeZeroes(8 << 20, 4 << 20);
            c.flush();
            byte[] back = new byte[(int) SIZE];
            fs.clear();
            for (int off = 0; off < SIZE; off += piece) {
                int o = off, n = (int) Math.min(piece, SIZE - off);
                fs.add(pool.submit(() -> {
                    byte[] b = new byte[n];
                    c.read(o, b, n);
                    System.arraycopy(b, 0, back, o, n);
                    return null;
                }));
            }
            for (Future<?> f : fs) f.get();
            assertArrayEquals(image, back);
        }
    }

    @Test
    void roundTripsAgainstOwnServer() throws Exception {
        roundTrip(ownServer());
        try (NbdClient c = NbdClient.connect(NbdUri.parse("nbd+unix:///mem0?socket=" + dir.resolve("own.sock")))) {
            assertEquals(SIZE, c.size());
        }
    }

    @Test
    void roundTripsAgainstNbdkitWithAndWithoutWriteZeroes() throws Exception {
        String plain = nbdkit("mem", "memory", "64M");
        try (NbdClient c = NbdClient.connect(NbdUri.parse(plain))) {
            assertTrue(c.writesZeroes());
        }
        roundTrip(plain);
        String nozero = nbdkit("nozero", "--filter=nozero", "memory", "64M", "zeromode=none");
        try (NbdClient c = NbdClient.connect(NbdUri.parse(nozero))) {
            assertFalse(c.writesZeroes());
        }
        roundTrip(nozero);
    }

    @Test
    void unknownExportIsOneLine() throws Exception {
        String uri = ownServer().replace("/mem0", "/nope");
        IOException e = assertThrows(IOException.class, () -> NbdClient.connect(NbdUri.parse(uri)));
        assertTrue(e.getMessage().contains("has no export \"nope\"") && e.getMessage().contains("nbdinfo --list"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void serverErrorsAreOneLineWithTheErrno() throws Exception {
        String uri = nbdkit("err", "--filter=error", "memory", "64M", "error=EIO", "error-pread-rate=100%");
        try (NbdClient c = NbdClient.connect(NbdUri.parse(uri))) {
            IOException e = assertThrows(IOException.class, () -> c.read(1 << 20, new byte[4096], 4096));
            assertEquals(uri + ": the server failed a read at offset 1048576: EIO (input/output error); check the server's log", e.getMessage());
            c.write(0, new byte[4096], 4096); // the connection still works
        }
        String ro = nbdkit("ro", "-r", "memory", "64M");
        try (NbdClient c = NbdClient.connect(NbdUri.parse(ro))) {
            assertFalse(c.writable());
        }
    }

    @Test
    void aClosedConnectionFailsEveryCall() throws Exception {
        String uri = nbdkit("gone", "memory", "64M");
        try (NbdClient c = NbdClient.connect(NbdUri.parse(uri))) {
            c.read(0, new byte[4096], 4096);
            servers.getFirst().destroyForcibly().waitFor();
            IOException e = assertThrows(IOException.class, () -> {
                for (int i = 0; i < 100; i++) c.read(0, new byte[4096], 4096);
            });
            assertTrue(e.getMessage().startsWith(uri + ": "), e.getMessage());
            assertTrue(e.getMessage().contains("closed the connection") || e.getMessage().contains("connection failed"), e.getMessage());
        }
        IOException e = assertThrows(IOException.class, () -> NbdClient.connect(NbdUri.parse(uri)));
        assertTrue(e.getMessage().contains("cannot connect"), e.getMessage());
    }

    @Test
    void urisParseAsLibnbdWritesThem() {
        NbdUri tcp = NbdUri.parse("nbd://example.org/disk%20one");
        assertEquals("disk one", tcp.export());
        assertEquals(NbdUri.DEFAULT_PORT, ((java.net.InetSocketAddress) tcp.address()).getPort());
        NbdUri port = NbdUri.parse("nbd://[::1]:10900/");
        assertEquals("", port.export());
        assertEquals("::1", ((java.net.InetSocketAddress) port.address()).getHostString());
        assertEquals(10900, ((java.net.InetSocketAddress) port.address()).getPort());
        NbdUri unix = NbdUri.parse("nbd+unix:///sda?socket=/run/nbd.sock");
        assertEquals("sda", unix.export());
        assertEquals(Path.of("/run/nbd.sock"), ((java.net.UnixDomainSocketAddress) unix.address()).getPath());
        assertTrue(NbdUri.looksLike("nbd+unix:///x?socket=s") && NbdUri.looksLike("NBD://h/x") && !NbdUri.looksLike("disk.img"));
        String tls = assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbds://h/x")).getMessage();
        assertTrue(tls.contains("TLS") && tls.contains("nbdcopy"), tls);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd+unix:///x")).getMessage().contains("socket=PATH"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> NbdUri.parse("nbd+vsock:///x")).getMessage().contains("not supported"));
    }
}
