package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** `volume` through the command line on a directory store: exit codes, one-line errors, store URLs. */
class VolumeCommandTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
    private PrintStream oldOut, oldErr;

    @BeforeEach
    void capture() {
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true));
        System.setErr(new PrintStream(err, true));
        // as main() does: the command's own log format and level, on the captured stderr
        dev.ublkgateway.core.log.LogSetup.apply(dev.ublkgateway.core.log.LogLevel.INFO, dev.ublkgateway.core.log.LogFormat.TEXT);
    }

    @AfterEach
    void restore() {
        System.setOut(oldOut);
        System.setErr(oldErr);
        dev.ublkgateway.core.log.LogSetup.apply(dev.ublkgateway.core.log.LogLevel.INFO, dev.ublkgateway.core.log.LogFormat.TEXT);
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args);
    }

    private String errLine() {
        String e = err.toString().strip();
        assertFalse(e.contains("\n"), "expected one line, got: " + e);
        assertFalse(e.contains("Exception"), e);
        return e;
    }

    @Test
    void importVerifyDamageAndErrors() throws Exception {
        String store = "dir:" + dir.resolve("vols");
        Path img = dir.resolve("a.img");
        byte[] data = new byte[3 << 20];
        for (int i = 0; i < (1 << 20); i++) data[(1 << 20) + i] = (byte) (i * 31 + 7);
        Files.write(img, data);
        assertEquals(0, run("volume", "import", img.toString(), "v1", "--store", store, "--chunk-size", "64KiB"), err.toString());
        assertTrue(out.toString().contains("16 of 48 chunks stored"), out.toString());

        assertEquals(1, run("volume", "import", img.toString(), "v1", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: volume v1 already exists"), errLine());
        assertEquals(1, run("volume", "info", "nope", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: no volume nope in "), errLine());
        assertEquals(2, run("volume", "info", "v1"));
        assertTrue(errLine().contains("say where the volume is"), errLine());
        assertEquals(2, run("volume", "info", "v1", "--store", "ftp://x"));
        assertTrue(errLine().contains("is not a store URL"), errLine());

        assertEquals(0, run("volume", "info", "v1", "--store", store, "--json"), err.toString());
        @SuppressWarnings("unchecked")
        Map<String, Object> info = VolumeCommand.JSON.readValue(out.toString(), Map.class);
        assertEquals(3 << 20, ((Number) info.get("size_bytes")).intValue());
        assertEquals(16, ((Number) info.get("stored_chunks")).intValue());
        assertEquals(0, run("volume", "list", "--store", store));
        assertTrue(out.toString().lines().anyMatch(l -> l.startsWith("v1 ")), out.toString());

        Path nowhere = dir.resolve("nowhere");
        assertEquals(1, run("volume", "list", "--store", "dir:" + nowhere));
        assertTrue(errLine().startsWith("ublk-gateway: no store folder " + nowhere), errLine());
        assertFalse(Files.exists(nowhere), "looking at a store creates nothing");
        assertEquals(1, run("volume", "export", "v1", nowhere.resolve("b.img").toString(), "--store", store));
        assertEquals("ublk-gateway: " + nowhere.resolve("b.img") + ": no such file or folder; check the path", errLine());

        assertEquals(0, run("volume", "verify", "v1", "--store", store), out.toString() + err);
        Path chunk = dir.resolve("vols/v1/chunks/0/12"); // chunk 18, at 1 MiB + 128 KiB
        Files.write(chunk, new byte[10]);
        assertEquals(1, run("volume", "verify", "v1", "--store", store));
        assertTrue(out.toString().contains("damaged: chunk 18 at offset 1179648 (1.13 MiB): chunk 18 decodes to 10 bytes"), out.toString());

        Path back = dir.resolve("b.img");
        assertEquals(1, run("volume", "export", "v1", back.toString(), "--store", store));
        assertTrue(errLine().contains("chunk 18"), errLine());
        assertFalse(Files.exists(back), "a failed export leaves no file");
        assertEquals(0, run("volume", "delete", "v1", "--store", store), err.toString());
        assertEquals(1, run("volume", "verify", "v1", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: no volume v1 in "), errLine());
    }

    @Test
    void storeUrlsNameOneFolderOrPrefixPerVolume() {
        StoreUrl d = StoreUrl.parse("dir:/srv/vols");
        assertEquals(Map.of("path", "/srv/vols/db0"), d.forVolume("db0"));
        StoreUrl s = StoreUrl.parse("s3://bucket/base?endpoint=http://127.0.0.1:9000&access-key-id=${env:K}");
        assertEquals("s3", s.type());
        Map<String, String> o = s.forVolume("db0");
        assertEquals("base/db0/", o.get("prefix"));
        assertEquals("http://127.0.0.1:9000", o.get("endpoint"));
        assertEquals("${env:K}", o.get("access-key-id"));
        assertEquals("\"${env:K}\"", StoreUrl.quote("${env:K}"));
        assertEquals("true", StoreUrl.quote("true"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> StoreUrl.parse("memory:"));
        assertTrue(e.getMessage().contains("only inside one gateway"), e.getMessage());
    }
}
