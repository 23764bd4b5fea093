package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.testing.ConsoleCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** `volume` through the command line on a directory store: exit codes, one-line errors, store URLs. */
class VolumeCommandTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture(true);

    private int run(String... args) {
        console.reset();
        return Main.run(args);
    }

    private String errLine() {
        return console.errLine();
    }

    @Test
    void cloneInfoFlattenAndRefusals() throws Exception {
        String store = "dir:" + dir.resolve("vols");
        Path img = dir.resolve("p.img");
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i += 3) data[i] = (byte) (i * 7 + 1);
        Files.write(img, data);
        assertEquals(0, run("volume", "import", img.toString(), "p", "--store", store, "--chunk-size", "64KiB"), console.err());
        assertEquals(0, run("volume", "snapshot", "p", "s1", "--store", store), console.err());
        assertEquals(2, run("volume", "clone", "p", "--store", store));
        assertTrue(errLine().contains("name the parent's snapshot"), errLine());
        assertEquals(1, run("volume", "clone", "p@nope", "c", "--store", store));
        assertEquals("ublk-gateway: volume c: its parent volume p has no snapshot nope; list them with ublk-gateway volume snapshots", errLine());
        assertEquals(0, run("volume", "clone", "p@s1", "c", "--store", store), console.err());
        assertTrue(console.out().startsWith("cloned snapshot s1 of volume p as volume c "), console.out());
        assertTrue(console.out().contains("1 MiB in chunks of 64 KiB") && console.out().contains("no chunk copied"), console.out());
        assertEquals(0, run("volume", "info", "c", "--store", store, "--json"), console.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> info = VolumeCommand.JSON.readValue(console.out(), Map.class);
        assertEquals("p@s1", info.get("parent"));
        assertEquals(List.of(), info.get("snapshots"));
        assertEquals(0, ((Number) info.get("stored_chunks")).intValue());
        assertEquals(0, run("volume", "info", "p", "--store", store), console.err());
        assertTrue(console.out().lines().anyMatch(l -> l.matches("clones: +c \\(of s1\\)")), console.out());
        assertTrue(console.out().lines().anyMatch(l -> l.matches("snapshots: +s1")), console.out());
        assertEquals(1, run("volume", "snapshot-delete", "p", "s1", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: volume p: snapshot s1 cannot be deleted: clones read from it: c (of s1); flatten"), errLine());
        assertEquals(1, run("volume", "delete", "p", "--store", store));
        assertTrue(errLine().contains("clones read from it: c (of s1)"), errLine());
        assertEquals(0, run("volume", "verify", "c", "--store", store), console.err());

        assertEquals(0, run("volume", "flatten", "c", "--store", store), console.err());
        assertTrue(console.out().contains("flattened volume c (") && console.out().contains("16 chunks copied from p@s1"), console.out());
        assertEquals(0, run("volume", "snapshot-delete", "p", "s1", "--store", store), console.err());
        assertEquals(0, run("volume", "delete", "p", "--store", store), console.err());
        Path back = dir.resolve("c.img");
        assertEquals(0, run("volume", "export", "c", back.toString(), "--store", store), console.err());
        assertArrayEquals(data, Files.readAllBytes(back));
        assertEquals(1, run("volume", "flatten", "c", "--store", store));
        assertEquals("ublk-gateway: volume c is not a clone; there is nothing to flatten", errLine());
    }

    @Test
    void importVerifyDamageAndErrors() throws Exception {
        String store = "dir:" + dir.resolve("vols");
        Path img = dir.resolve("a.img");
        byte[] data = new byte[3 << 20];
        for (int i = 0; i < (1 << 20); i++) data[(1 << 20) + i] = (byte) (i * 31 + 7);
        Files.write(img, data);
        assertEquals(0, run("volume", "import", img.toString(), "v1", "--store", store, "--chunk-size", "64KiB"), console.err());
        assertTrue(console.out().contains("16 of 48 chunks stored"), console.out());

        assertEquals(1, run("volume", "import", img.toString(), "v1", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: volume v1 already exists"), errLine());
        assertEquals(1, run("volume", "info", "nope", "--store", store));
        assertTrue(errLine().startsWith("ublk-gateway: no volume nope in "), errLine());
        assertEquals(2, run("volume", "info", "v1"));
        assertTrue(errLine().contains("say where the volume is"), errLine());
        assertEquals(2, run("volume", "info", "v1", "--store", "ftp://x"));
        assertTrue(errLine().contains("is not a store URL"), errLine());

        assertEquals(0, run("volume", "info", "v1", "--store", store, "--json"), console.err());
        @SuppressWarnings("unchecked")
        Map<String, Object> info = VolumeCommand.JSON.readValue(console.out(), Map.class);
        assertEquals(3 << 20, ((Number) info.get("size_bytes")).intValue());
        assertEquals(16, ((Number) info.get("stored_chunks")).intValue());
        assertEquals(0, run("volume", "list", "--store", store));
        assertTrue(console.out().lines().anyMatch(l -> l.startsWith("v1 ")), console.out());

        Path nowhere = dir.resolve("nowhere");
        assertEquals(1, run("volume", "list", "--store", "dir:" + nowhere));
        assertTrue(errLine().startsWith("ublk-gateway: no store folder " + nowhere), errLine());
        assertFalse(Files.exists(nowhere), "looking at a store creates nothing");
        assertEquals(1, run("volume", "export", "v1", nowhere.resolve("b.img").toString(), "--store", store));
        assertEquals("ublk-gateway: " + nowhere.resolve("b.img") + ": no such file or folder; check the path", errLine());

        assertEquals(0, run("volume", "verify", "v1", "--store", store), console.out() + console.err());
        Path chunk; // chunk 18, at 1 MiB + 128 KiB (format 2: named with its generation)
        try (var l = Files.list(dir.resolve("vols/v1/chunks/0"))) {
            chunk = l.filter(p -> p.getFileName().toString().startsWith("12.")).findFirst().orElseThrow();
        }
        Files.write(chunk, new byte[10]);
        assertEquals(1, run("volume", "verify", "v1", "--store", store));
        assertTrue(console.out().contains("damaged: chunk 18 at offset 1179648 (1.13 MiB): chunk 18 decodes to 10 bytes"), console.out());

        Path back = dir.resolve("b.img");
        assertEquals(1, run("volume", "export", "v1", back.toString(), "--store", store));
        assertTrue(errLine().contains("chunk 18"), errLine());
        assertFalse(Files.exists(back), "a failed export leaves no file");
        assertEquals(0, run("volume", "delete", "v1", "--store", store), console.err());
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

    @Test
    void snapshotsRollbackDeleteAndGc() throws Exception {
        String store = "dir:" + dir.resolve("vols");
        Path img = dir.resolve("a.img");
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) data[i] = (byte) (i * 31 + 7);
        Files.write(img, data);
        assertEquals(0, run("volume", "import", img.toString(), "v1", "--store", store, "--chunk-size", "64KiB"), console.err());
        assertEquals(0, run("volume", "snapshot", "v1", "s1", "--store", store), console.err());
        assertTrue(console.out().startsWith("took snapshot s1 of volume v1"), console.out());
        assertEquals(0, run("volume", "snapshots", "v1", "--store", store), console.err());
        assertTrue(console.out().contains("s1") && console.out().contains("1 MiB"), console.out());
        assertEquals(0, run("volume", "snapshots", "v1", "--store", store, "--json"), console.err());
        assertTrue(console.out().contains("\"referenced_bytes\":1048576"), console.out());
        Path back = dir.resolve("s1.img");
        assertEquals(0, run("volume", "export", "v1", back.toString(), "--snapshot", "s1", "--store", store), console.err());
        assertArrayEquals(data, Files.readAllBytes(back));
        assertEquals(0, run("volume", "gc", "v1", "--dry-run", "--store", store), console.err());
        assertTrue(console.out().contains("16 chunk objects, 16 referenced, 0 unreferenced (would be removed; --dry-run)"), console.out());
        assertEquals(0, run("volume", "rollback", "v1", "s1", "--store", store), console.err());
        assertEquals(1, run("volume", "rollback", "v1", "s9", "--store", store));
        assertEquals("ublk-gateway: volume v1 has no snapshot s9; list them with ublk-gateway volume snapshots", errLine());
        assertEquals(2, run("volume", "snapshot", "v1", "a/b", "--store", store));
        assertTrue(errLine().contains("snapshot name 'a/b' is not valid"), errLine());
        assertEquals(0, run("volume", "snapshot-delete", "v1", "s1", "--store", store), console.err());
        assertTrue(console.out().contains("1 objects removed"), console.out());
        assertEquals(0, run("volume", "verify", "v1", "--store", store), console.out() + console.err());
    }
}
