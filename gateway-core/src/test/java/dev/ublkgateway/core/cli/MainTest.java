package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.testing.ConsoleCapture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The CLI's contract: results on stdout, every failure one line on stderr with a non-zero status. */
class MainTest {
    @TempDir
    Path dir;
    @RegisterExtension
    final ConsoleCapture console = new ConsoleCapture();

    @Test
    void validateAcceptsTheQuickstart() {
        assertEquals(0, Main.run("validate", "../examples/quickstart.yaml"));
        assertTrue(console.out().contains("quick0: 1 GiB, memory target"), console.out());
        assertTrue(console.out().contains("ok (1 device(s))"), console.out());
    }

    @Test
    void validateReportsALineAndColumn() throws Exception {
        Path f = dir.resolve("bad.yaml");
        Files.writeString(f, "devices:\n  - name: a\n    size: 10Gb\n    target: {type: memory}\n");
        assertEquals(1, Main.run("validate", f.toString()));
        String e = console.errLine();
        assertTrue(e.startsWith("ublk-gateway: " + f + ":3:11: size \"10Gb\""), e);
    }

    @Test
    void unknownOptionIsOneLine() {
        assertEquals(2, Main.run("up", "x.yaml", "--bogus"));
        assertTrue(console.errLine().contains("--bogus"));
    }

    /** Every command path, e.g. [up] and [plugins, list], from the command tree itself. */
    private static void commandPaths(picocli.CommandLine cli, java.util.List<String> prefix,
                                     java.util.List<java.util.List<String>> out) {
        for (var e : cli.getSubcommands().entrySet()) {
            java.util.List<String> path = new java.util.ArrayList<>(prefix);
            path.add(e.getKey());
            out.add(path);
            commandPaths(e.getValue(), path, out);
        }
    }

    @Test
    void everySubcommandTakesHelp() {
        java.util.List<java.util.List<String>> paths = new java.util.ArrayList<>();
        commandPaths(new picocli.CommandLine(new Main()), java.util.List.of(), paths);
        assertTrue(paths.size() >= 12, paths.toString());
        for (var path : paths) {
            for (String flag : new String[] {"--help", "-h"}) {
                console.reset();
                java.util.List<String> args = new java.util.ArrayList<>(path);
                args.add(flag);
                assertEquals(0, Main.run(args.toArray(String[]::new)), path + " " + flag + ": " + console.err());
                String usage = "Usage: ublk-gateway " + String.join(" ", path);
                assertTrue(console.out().contains(usage), path + " " + flag + ": " + console.out());
                assertEquals("", console.err(), path + " " + flag);
            }
        }
    }

    @Test
    void topLevelHelpListsTheExitCodes() {
        assertEquals(0, Main.run("--help"));
        String o = console.out();
        assertTrue(o.contains("Exit codes:"), o);
        assertTrue(o.matches("(?s).*\\b0\\s+success.*\\b1\\s+failure.*\\b2\\s+bad usage.*"), o);
    }

    @Test
    void anUnknownOptionPointsToAHelpThatWorks() {
        assertEquals(2, Main.run("plugins", "list", "--bogus"));
        String e = console.errLine();
        assertTrue(e.endsWith("; see `ublk-gateway plugins list --help`"), e);
        String hint = e.substring(e.indexOf("`ublk-gateway ") + "`ublk-gateway ".length(), e.length() - 1);
        console.reset();
        assertEquals(0, Main.run(hint.split(" ")));
        assertTrue(console.out().startsWith("Usage: ublk-gateway plugins list"), console.out());

        console.reset();
        assertEquals(2, Main.run("--bogus"));
        assertTrue(console.errLine().endsWith("; see `ublk-gateway --help`"), console.err());
    }

    @Test
    void upWithoutTheDriverNamesTheModule() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeFalse(new File("/dev/ublk-control").exists());
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ublkgateway.core.sys.Libc.geteuid() == 0);
        assertEquals(1, Main.run("up", "../examples/quickstart.yaml", "--foreground", "--frontend", "ublk"));
        assertTrue(console.errLine().contains("modprobe ublk_drv"), console.err());
    }

    @Test
    void aBadMetricsAddressIsOneUsageLine() throws Exception {
        assertEquals(2, Main.run("up", "../examples/quickstart.yaml", "--metrics-listen", "unix:/run/m.sock"));
        String e = console.errLine();
        assertTrue(e.contains("--metrics-listen") && e.contains("write HOST:PORT, e.g. 127.0.0.1:9810"), e);

        console.reset();
        Path f = dir.resolve("m.yaml");
        Files.writeString(f, "metrics-listen: 9810\ndevices:\n  - name: a\n    size: 1MiB\n    target: {type: memory}\n");
        assertEquals(1, Main.run("validate", f.toString()));
        e = console.err().strip().lines().filter(l -> l.startsWith("ublk-gateway:")).reduce("", (a, b) -> a + b);
        assertTrue(e.startsWith("ublk-gateway: " + f + ":1:17: metrics-listen: ") && e.contains("has no port"), e);
    }

    @Test
    void downOfAnUnknownDeviceIsOneLine() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ublkgateway.core.sys.Libc.geteuid() == 0);
        assertEquals(1, Main.run("down", "no-such-device-xyz"));
        assertEquals("ublk-gateway: no device named no-such-device-xyz is up; see `ublk-gateway list`", console.errLine());
    }

    @Test
    void versionComesFromTheBuild() throws Exception {
        assertEquals(0, Main.run("--version"));
        String[] lines = console.out().strip().split("\n");
        java.util.regex.Matcher pom = java.util.regex.Pattern.compile("<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("../pom.xml")));
        assertTrue(pom.find());
        assertEquals("ublk-gateway " + pom.group(1), lines[0]);
        assertEquals("plugin API " + dev.ublkgateway.api.ApiVersion.CURRENT, lines[1]);
        assertTrue(lines[2].startsWith("ublk: "), lines[2]);
        assertEquals(3, lines.length, console.out());
    }

    @Test
    void versionSaysWhyUblkIsNotAvailable() {
        assertEquals("ublk: not available (/dev/ublk-control is missing; ublk_drv is not loaded)",
                VersionInfo.ublkLine(false, () -> fail("must not be read")));
        assertEquals("ublk: not available (permission denied on /dev/ublk-control)", VersionInfo.ublkLine(true, () -> {
            throw new dev.ublkgateway.core.frontend.ublk.UblkException("permission denied on /dev/ublk-control");
        }));
        String line = VersionInfo.ublkLine(true, () -> 0b1001L);
        assertTrue(line.startsWith("ublk: features 0x9 ("), line);
        assertTrue(line.contains(dev.ublkgateway.core.frontend.ublk.Uapi.featureName(3)), line);
    }

    /** Acts as uid 1000 whose XDG_RUNTIME_DIR is a temporary directory. */
    private AutoCloseable asUser() {
        return dev.ublkgateway.core.sys.Caller.simulate(1000, java.util.Map.of("XDG_RUNTIME_DIR", dir.toString()));
    }

    /** A per-user run directory as the simulated user 1000 would have it (we may really be root). */
    private dev.ublkgateway.core.runtime.StateStore userStates() throws Exception {
        Path run = Files.createDirectory(dir.resolve("ublk-gateway"));
        Files.setAttribute(run, "unix:uid", 1000);
        return new dev.ublkgateway.core.runtime.StateStore(run);
    }

    private static final long GONE_PID = Integer.MAX_VALUE - 1;

    @Test
    void aUserTakesDownTheirNbdDeviceWithoutRoot() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ublkgateway.core.sys.Libc.geteuid() == 0, "chown needs root");
        var states = userStates();
        states.save(new dev.ublkgateway.core.runtime.DeviceState("mine", -1, GONE_PID, "x.yaml", false,
                "nbd://127.0.0.1/mine", "memory", 0, 0));
        try (var u = asUser()) {
            assertEquals(0, Main.run("list"), console.err());
            assertTrue(console.out().contains("nbd://127.0.0.1/mine"), console.out());
            assertEquals(0, Main.run("down", "mine"), console.err());
        }
        assertTrue(states.load("mine").isEmpty());
    }

    @Test
    void aUsersUblkDeviceIsTheKernelsToCheckInOneLine() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.ublkgateway.core.sys.Libc.geteuid() == 0, "chown needs root");
        org.junit.jupiter.api.Assumptions.assumeFalse(Files.exists(Path.of("/dev/ublk-control")), "needs a host without ublk");
        var states = userStates();
        states.save(new dev.ublkgateway.core.runtime.DeviceState("disk", 3, GONE_PID, "x.yaml", false,
                "/dev/ublkb3", "memory", 0, 0));
        try (var u = asUser()) {
            // no longer refused for want of root: the control device decides, and here it is missing
            assertEquals(1, Main.run("down", "disk"));
            assertTrue(console.errLine().startsWith("ublk-gateway: /dev/ublk-control is missing"), console.err());
            console.reset();
            assertEquals(1, Main.run("down", "7"));
            assertTrue(console.errLine().contains("/dev/ublk-control is missing"), console.err());
            console.reset();
            // recovery stays root's
            assertEquals(1, Main.run("recover", "disk"));
            assertEquals("ublk-gateway: " + dev.ublkgateway.core.frontend.ublk.Unprivileged.recoverRefused(), console.errLine());
        }
        assertTrue(states.load("disk").isPresent());
    }

    @Test
    void aRunDirOfSomeoneElseIsRefusedInOneLine() throws Exception {
        Files.createDirectory(dir.resolve("ublk-gateway")); // ours, not uid 1000's
        try (var u = asUser()) {
            assertEquals(1, Main.run("list"));
            String e = console.errLine();
            assertTrue(e.startsWith("ublk-gateway: run directory " + dir.resolve("ublk-gateway") + " belongs to uid "), e);
            assertTrue(e.endsWith("set UBLKGW_RUN_DIR to a directory you own"), e);
        }
    }

    @Test
    void anUnusableRunDirIsNamedWithTheFix() throws Exception {
        Path missing = dir.resolve("no/such");
        try (var u = dev.ublkgateway.core.sys.Caller.simulate(1000, java.util.Map.of("XDG_RUNTIME_DIR", missing.toString()))) {
            assertEquals(1, Main.run("down", "x"));
            String e = console.errLine();
            assertTrue(e.startsWith("ublk-gateway: cannot use the run directory " + missing.resolve("ublk-gateway")), e);
            assertTrue(e.endsWith("set UBLKGW_RUN_DIR to a directory you can write"), e);
        }
    }

    @Test
    void listColumnsFollowTheirContent() throws Exception {
        var states = new dev.ublkgateway.core.runtime.StateStore(dir);
        String longUri = "nbd+unix:///a-rather-long-export-name?socket=/run/user/1000/ublk-gateway/some/deep/dir/nbd.sock";
        states.save(new dev.ublkgateway.core.runtime.DeviceState("a-long-device-name.v2", -1, GONE_PID, "x.yaml", false,
                longUri, "memory", 0, 0));
        states.save(new dev.ublkgateway.core.runtime.DeviceState("b", -1, GONE_PID, "x.yaml", false,
                "nbd://127.0.0.1/b", "file /var/tmp/b.img", 0, 0));
        try (var u = dev.ublkgateway.core.sys.Caller.simulate(0, java.util.Map.of("UBLKGW_RUN_DIR", dir.toString()))) {
            assertEquals(0, Main.run("list"), console.err());
        }
        String[] lines = console.out().split("\n");
        assertEquals(3, lines.length, console.out());
        int target = lines[0].indexOf("TARGET");
        assertEquals(target, lines[1].indexOf("memory"), console.out());
        assertEquals(target, lines[2].indexOf("file /var/tmp/b.img"), console.out());
        assertEquals(lines[0].indexOf("STATE"), lines[2].indexOf("gone"), console.out());
        assertTrue(lines[1].matches("a-long-device-name\\.v2 +nbd +gone +\\d+ +" + java.util.regex.Pattern.quote(longUri) + " +memory"), lines[1]);
        for (String l : lines) assertEquals(l.strip(), l.stripLeading(), "no trailing blanks: [" + l + "]");
    }
}
