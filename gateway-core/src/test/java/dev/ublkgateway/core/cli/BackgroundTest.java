package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** What `up` says when its gateway exits before the devices come up. */
class BackgroundTest {
    @TempDir
    Path dir;

    /** A JVM that really dies of SIGSEGV: the error names the signal, the frame and the crash report. */
    @Test
    void aJvmThatDiesIsReportedWithItsCrashReport() throws Exception {
        Path log = dir.resolve("g.log");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-XX:ErrorFile=" + dir.resolve("g.hs_err_pid%p.log"), "-Xmx64m",
                "-cp", System.getProperty("java.class.path"), Crasher.class.getName())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertEquals(134, p.waitFor(), "the child JVM should abort: " + Files.readString(log));

        String line = Background.lastLine(log);
        assertFalse(line.contains("\n"), line);
        Matcher m = Pattern.compile("^the gateway's JVM died: SIGSEGV \\(0xb\\) at pc=0x\\p{XDigit}+, pid=\\d+, tid=\\d+ in .+; crash report: (\\S+)$")
                .matcher(line);
        assertTrue(m.matches(), line);
        Path report = Path.of(m.group(1));
        assertEquals(dir, report.getParent(), line);
        assertTrue(Files.readString(report).contains("SIGSEGV"), "the crash report exists and says why");
    }

    @Test
    void anOrdinaryFailureIsTheLogsLastLine() throws Exception {
        Path log = dir.resolve("g.log");
        Files.write(log, List.of("INFO starting", "ublk-gateway: /dev/ublk-control is missing; run `modprobe ublk_drv`", ""));
        assertEquals("/dev/ublk-control is missing; run `modprobe ublk_drv`", Background.lastLine(log));
        Files.write(log, List.of());
        assertEquals("the gateway exited before its devices came up", Background.lastLine(log));
    }

    /** Writes to an unmapped address: a real SIGSEGV inside the JVM. */
    public static final class Crasher {
        public static void main(String[] args) {
            MemorySegment.ofAddress(16).reinterpret(8).set(ValueLayout.JAVA_LONG, 0, 1L);
        }
    }
}
