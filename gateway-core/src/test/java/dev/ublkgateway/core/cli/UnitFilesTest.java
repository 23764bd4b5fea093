package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** The systemd units shipped in systemd/ run commands and options that exist, the way Type=notify needs. */
class UnitFilesTest {
    private static final Path UNITS = Path.of("../systemd");

    private static List<Path> services() throws IOException {
        try (Stream<Path> s = Files.list(UNITS)) {
            return s.filter(p -> p.toString().endsWith(".service")).sorted().toList();
        }
    }

    /** The arguments of every Exec*= line of {@code unit}, %i being an instance name. */
    private static List<String[]> commands(Path unit) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(unit)) {
            if (!line.startsWith("Exec")) continue;
            String[] words = line.substring(line.indexOf('=') + 1).replace("%i", "vol0").replace("$MAINPID", "4711").strip().split("\\s+");
            assertTrue(words[0].endsWith("/ublk-gateway"), unit + ": " + line);
            out.add(Arrays.copyOfRange(words, 1, words.length));
        }
        return out;
    }

    @Test
    void everyServiceRunsSubcommandsAndOptionsThatParse() throws IOException {
        List<Path> services = services();
        assertEquals(3, services.size(), "services in " + UNITS.toAbsolutePath() + ": " + services);
        for (Path unit : services) {
            List<String[]> commands = commands(unit);
            assertFalse(commands.isEmpty(), unit + " runs nothing");
            for (String[] args : commands) {
                assertDoesNotThrow(() -> Main.commandLine().parseArgs(args),
                        unit + ": " + String.join(" ", args));
            }
        }
    }

    @Test
    void aMistypedOptionWouldBeCaught() {
        assertThrows(CommandLine.ParameterException.class,
                () -> Main.commandLine().parseArgs("up", "--foregroud", "/etc/ublk-gateway/vol0.yaml"));
    }

    @Test
    void notifyServicesServeInTheForegroundAndAreWatched() throws IOException {
        for (Path unit : services()) {
            String text = Files.readString(unit);
            assertTrue(text.contains("\nType=notify\n"), unit.toString());
            assertTrue(text.contains("\nWatchdogSec="), unit.toString());
            assertTrue(text.contains("\nTimeoutStartSec="), unit + ": systemd's default 90 s would tear down a slow start");
            assertTrue(text.contains("\nSuccessExitStatus=143 "), unit + ": a stop (SIGTERM) would count as a failure");
            String[] start = commands(unit).stream().filter(a -> a[0].equals("up") || a[0].equals("recover"))
                    .findFirst().orElseThrow(() -> new AssertionError(unit + " has no up or recover"));
            assertTrue(List.of(start).contains("--foreground"), unit + ": without --foreground the main process "
                    + "would exit and leave a background gateway systemd does not watch");
        }
    }

    @Test
    void aReloadOfTheDevicesUnitIsALiveUpgradeInsideIt() throws IOException {
        String text = Files.readString(UNITS.resolve("ublk-gateway@.service"));
        assertTrue(text.contains("\nExecReload=/usr/local/bin/ublk-gateway reload $MAINPID\n"), text);
        // the old gateway names its successor (MAINPID=): only the main process may, with NotifyAccess=main
        assertTrue(text.contains("\nNotifyAccess=main\n"), text);
    }

    @Test
    void restartsDoNotRepeatAReportedError() throws IOException {
        for (Path unit : services()) {
            String text = Files.readString(unit);
            if (!text.contains("\nRestart=on-failure\n")) continue;
            // a restarted `up` would refuse a device left for recovery (exit 1) every RestartSec= forever
            assertTrue(text.contains("\nRestartPreventExitStatus=1\n"), unit + ": restarts an `up` that exits 1");
        }
    }

    @Test
    void theSocketUnitStartsTheNbdService() throws IOException {
        assertTrue(Files.exists(UNITS.resolve("ublk-gateway-nbd@.socket")));
        String service = Files.readString(UNITS.resolve("ublk-gateway-nbd@.service"));
        assertTrue(service.contains("--frontend nbd"), "the socket-activated service must serve over NBD");
        assertTrue(service.contains("Requires=ublk-gateway-nbd@%i.socket"));
    }
}
