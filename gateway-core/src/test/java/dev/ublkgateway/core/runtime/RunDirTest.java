package dev.ublkgateway.core.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RunDirTest {
    @TempDir
    Path tmp;

    @Test
    void theVariableWinsThenRootThenTheUsersRuntimeDirThenTmp() {
        assertEquals(Path.of("/x"), RunDir.choose(1000, Map.of("UBLKGW_RUN_DIR", "/x", "XDG_RUNTIME_DIR", "/run/user/1000")));
        assertEquals(Path.of("/x"), RunDir.choose(0, Map.of("UBLKGW_RUN_DIR", "/x")));
        assertEquals(Path.of("/run/ublk-gateway"), RunDir.choose(0, Map.of("XDG_RUNTIME_DIR", "/run/user/0")));
        assertEquals(Path.of("/run/user/1000/ublk-gateway"), RunDir.choose(1000, Map.of("XDG_RUNTIME_DIR", "/run/user/1000")));
        assertEquals(Path.of("/tmp/ublk-gateway-1000"), RunDir.choose(1000, Map.of()));
        assertTrue(RunDir.isPerUser(1000, Map.of()));
        assertFalse(RunDir.isPerUser(0, Map.of()));
        assertFalse(RunDir.isPerUser(1000, Map.of("UBLKGW_RUN_DIR", "/x")));
    }

    private static int myUid(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:uid");
    }

    @Test
    void aPerUserDirIsCreatedPrivate() throws Exception {
        Path d = tmp.resolve("ublk-gateway");
        RunDir.preparePrivate(d, myUid(tmp));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        RunDir.preparePrivate(d, myUid(tmp)); // again: fine, and private again
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
    }

    @Test
    void aDirOfSomeoneElseOrALinkIsRefused() throws Exception {
        Path d = Files.createDirectory(tmp.resolve("taken"));
        int other = myUid(tmp) + 4242;
        IOException e = assertThrows(IOException.class, () -> RunDir.preparePrivate(d, other));
        assertEquals("run directory " + d + " belongs to uid " + myUid(tmp) + ", not to you (uid " + other
                + "); remove it, or set UBLKGW_RUN_DIR to a directory you own", e.getMessage());

        Path link = Files.createSymbolicLink(tmp.resolve("link"), d);
        e = assertThrows(IOException.class, () -> RunDir.preparePrivate(link, myUid(tmp)));
        assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
    }

    @Test
    void aFailureInTheRunDirNamesItAndTheFix() {
        Path dir = Path.of("/run/ublk-gateway");
        assertEquals("cannot use the run directory /run/ublk-gateway (permission denied on /run/ublk-gateway); "
                        + "run as root, or set UBLKGW_RUN_DIR to a directory you can write",
                RunDir.explain(new AccessDeniedException("/run/ublk-gateway"), dir).orElseThrow());
        assertTrue(RunDir.explain(new AccessDeniedException("/etc/x"), dir).isEmpty());
    }
}
