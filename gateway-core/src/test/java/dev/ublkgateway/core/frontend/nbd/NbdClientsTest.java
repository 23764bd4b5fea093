package dev.ublkgateway.core.frontend.nbd;

import dev.ublkgateway.api.Target;
import dev.ublkgateway.core.targets.FileTarget;
import dev.ublkgateway.core.targets.MemoryTarget;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The NBD server against real clients: nbdinfo, nbdcopy, qemu-img and qemu-io, and nbdkit's memory
 * plugin as the reference for identical client commands.
 */
class NbdClientsTest {
    static final long SIZE = 256L << 20;

    @TempDir
    Path dir;
    NbdServer server;
    Target mem, file;
    String sock, memUri, fileUri;
    int port;

    @BeforeEach
    void start() throws Exception {
        Tools.require("nbdinfo", "nbdcopy", "qemu-img", "qemu-io");
        mem = new MemoryTarget(dir.resolve("mem0.mem"), SIZE);
        file = new FileTarget(dir.resolve("file0.img"), SIZE, false, false, true);
        sock = dir.resolve("nbd.sock").toString();
        server = new NbdServer(List.of(
                new Export("mem0", mem, SIZE, 512, 1 << 20, 64, 2, true, false),
                new Export("file0", file, SIZE, 4096, 1 << 20, 64, 1, true, false)),
                List.of(ListenAddress.parse("unix:" + sock), ListenAddress.parse("127.0.0.1:0")), 16);
        server.start();
        port = server.addresses().get(1).port();
        memUri = "nbd+unix:///mem0?socket=" + sock;
        fileUri = "nbd://127.0.0.1:" + port + "/file0";
    }

    @AfterEach
    void stop() throws Exception {
        if (server != null) server.close();
        if (mem != null) mem.close();
        if (file != null) file.close();
    }

    @Test
    void nbdinfoSeesExportsAndSizes() throws Exception {
        String list = Tools.ok("nbdinfo", "--list", "nbd+unix://?socket=" + sock);
        assertTrue(list.contains("export=\"mem0\"") && list.contains("export=\"file0\""), list);
        String info = Tools.ok("nbdinfo", "--json", fileUri);
        assertTrue(info.contains("\"export-size\": " + SIZE), info);
        assertTrue(info.contains("\"block_size_minimum\": 4096"), info);
        assertTrue(info.contains("\"can_multi_conn\": true"), info);
        assertEquals(SIZE + "\n", Tools.ok("nbdinfo", "--size", memUri));
    }

    @Test
    void nbdcopyRoundTripsRandomImage() throws Exception {
        Path in = randomImage(dir.resolve("in.img"), SIZE, 1);
        for (String uri : List.of(memUri, fileUri)) {
            Path out = dir.resolve("out.img");
            Files.deleteIfExists(out);
            Tools.ok("nbdcopy", in.toString(), uri);
            Tools.ok("nbdcopy", uri, out.toString());
            assertEquals(sha256(in), sha256(out), uri);
        }
    }

    @Test
    void qemuImgConvertAndCompare() throws Exception {
        Path in = randomImage(dir.resolve("q.img"), 64L << 20, 2);
        Tools.ok("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), fileUri);
        // the export is larger: compare the image's extent with a raw view of the same size
        Tools.ok("qemu-img", "compare", "-f", "raw", "-F", "raw", in.toString(),
                "json:{\"driver\":\"raw\",\"size\":" + (64L << 20) + ",\"file\":{\"driver\":\"nbd\",\"server\":"
                        + "{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"" + port + "\"},\"export\":\"file0\"}}");
        Tools.ok("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw", in.toString(), memUri);
        String info = Tools.ok("qemu-img", "info", memUri);
        assertTrue(info.contains("virtual size: 256 MiB"), info);
    }

    @Test
    void qemuIoUnalignedPatterns() throws Exception {
        for (String uri : List.of(memUri, fileUri)) {
            Tools.ok("qemu-io", "-f", "raw", "-c", "write -P 0xab 0 1M", "-c", "write -P 0xcd 1 4097",
                    "-c", "write -P 0xef 8191 3", "-c", "write -z 1M 64k", "-c", "discard 2M 1M", uri);
            String r = Tools.ok("qemu-io", "-f", "raw", "-c", "read -P 0xab 0 1", "-c", "read -P 0xcd 1 4097",
                    "-c", "read -P 0xab 4098 4093", "-c", "read -P 0xef 8191 3", "-c", "read -P 0xab 8194 1040382",
                    "-c", "read -P 0 1M 64k", "-c", "read -P 0 2M 1M", "-c", "flush", uri);
            assertFalse(r.contains("Pattern verification failed"), r);
            assertFalse(r.toLowerCase().contains("error"), r);
        }
    }

    /** A written MiB in the middle of holes: nbdinfo --map and qemu-img map see data only there. */
    @Test
    void mapsShowTheWrittenRangeAmongHoles() throws Exception {
        long at = 64L << 20, len = 1L << 20;
        for (String uri : List.of(memUri, fileUri)) {
            Tools.ok("qemu-io", "-f", "raw", "-c", "write -P 0xab " + at + " " + len, "-c", "flush", uri);
            String map = Tools.ok("nbdinfo", "--map", uri);
            List<String> lines = map.lines().map(l -> l.strip().replaceAll("\\s+", " ")).toList();
            assertEquals(List.of("0 " + at + " 3 hole,zero", at + " " + len + " 0 data",
                    (at + len) + " " + (SIZE - at - len) + " 3 hole,zero"), lines, uri + ":\n" + map);
            String json = Tools.ok("qemu-img", "map", "--output=json", "-f", "raw", uri).replaceAll("\\s+", "");
            assertTrue(json.matches("(?s).*\\{\"start\":0,\"length\":" + at + ",\"depth\":0,\"present\":(true|false),"
                    + "\"zero\":true,\"data\":false.*"), uri + ": " + json);
            assertTrue(json.matches("(?s).*\\{\"start\":" + at + ",\"length\":" + len + ",\"depth\":0,\"present\":true,"
                    + "\"zero\":false,\"data\":true.*"), uri + ": " + json);
            assertTrue(json.matches("(?s).*\\{\"start\":" + (at + len) + ",\"length\":" + (SIZE - at - len)
                    + ",\"depth\":0,\"present\":(true|false),\"zero\":true,\"data\":false.*"), uri + ": " + json);
        }
    }

    @Test
    void severalClientsAtOnce() throws Exception {
        Path in = randomImage(dir.resolve("p.img"), 32L << 20, 3);
        ExecutorService ex = Executors.newFixedThreadPool(6);
        try {
            List<Future<String>> fs = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                long off = (long) i * (32L << 20);
                int pattern = 0x10 + i;
                Callable<String> c = () -> Tools.ok("qemu-io", "-f", "raw", "-c",
                        "write -P " + pattern + " " + off + " 32M", "-c", "read -P " + pattern + " " + off + " 32M",
                        memUri);
                fs.add(ex.submit(c));
            }
            fs.add(ex.submit(() -> Tools.ok("nbdcopy", "--connections=4", in.toString(), fileUri)));
            for (Future<String> f : fs) assertFalse(f.get().contains("Pattern verification failed"));
        } finally {
            ex.shutdownNow();
        }
        Path out = dir.resolve("p.out");
        Tools.ok("qemu-img", "convert", "-f", "raw", "-O", "raw", fileUri, out.toString());
        try (InputStream a = Files.newInputStream(in); InputStream b = Files.newInputStream(out)) {
            assertArrayEquals(a.readAllBytes(), b.readNBytes((int) Files.size(in)));
        }
    }

    @Test
    void sameResultsAsNbdkitMemory() throws Exception {
        Tools.require("nbdkit");
        Path in = randomImage(dir.resolve("c.img"), 16L << 20, 4);
        String ksock = dir.resolve("kit.sock").toString();
        Process kit = new ProcessBuilder("nbdkit", "--foreground", "--exit-with-parent", "-U", ksock, "memory", "size=" + SIZE)
                .redirectErrorStream(true).start();
        try {
            for (int i = 0; i < 100 && !Files.exists(Path.of(ksock)); i++) Thread.sleep(50);
            String kitUri = "nbd+unix:///?socket=" + ksock;
            List<String> outputs = new ArrayList<>();
            for (String uri : List.of(kitUri, memUri)) {
                Tools.ok("nbdcopy", in.toString(), uri);
                Tools.ok("qemu-io", "-f", "raw", "-c", "write -P 0x5a 12345 70000", "-c", "write -z 3M 1M",
                        "-c", "discard 5M 64k", "-c", "write -P 0x33 " + (SIZE - 7) + " 7", uri);
                Path out = dir.resolve("c.out");
                Files.deleteIfExists(out);
                Tools.ok("nbdcopy", uri, out.toString());
                String sum = sha256(out);
                // client-visible error behaviour: a read beyond the end fails in both
                Tools.Result beyond = Tools.run("qemu-io", "-f", "raw", "-c", "read 0 512", "-c",
                        "read " + SIZE + " 512", uri);
                outputs.add(sum + " beyond-end-fails=" + beyond.out().contains("Input/output error")
                        + beyond.out().contains("Invalid argument"));
                String info = Tools.ok("nbdinfo", "--size", uri);
                outputs.add(info.strip());
            }
            assertEquals(outputs.subList(0, 2), outputs.subList(2, 4));
        } finally {
            kit.destroy();
            kit.waitFor();
        }
    }

    static Path randomImage(Path p, long size, long seed) throws Exception {
        Random r = new Random(seed);
        byte[] chunk = new byte[1 << 20];
        try (var out = Files.newOutputStream(p)) {
            for (long done = 0; done < size; done += chunk.length) {
                r.nextBytes(chunk);
                out.write(chunk);
            }
        }
        return p;
    }

    static String sha256(Path p) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (InputStream in = Files.newInputStream(p)) {
            byte[] b = new byte[1 << 20];
            for (int n; (n = in.read(b)) > 0; ) md.update(b, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
