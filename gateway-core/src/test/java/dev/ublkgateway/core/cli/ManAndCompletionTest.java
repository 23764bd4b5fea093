package dev.ublkgateway.core.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The generated man pages render with the host's roff tools, and the completion script is valid bash. */
class ManAndCompletionTest {
    @TempDir
    Path dir;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private PrintStream oldOut;

    @BeforeEach
    void capture() {
        oldOut = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(oldOut);
    }

    private static String run(String stdin, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + text);
        return text;
    }

    /** "up", "plugins list", ...: every command under the root. */
    private static List<String> commands(CommandLine cli, String prefix, List<String> acc) {
        cli.getSubcommands().forEach((name, sub) -> {
            if (sub.getCommandSpec().usageMessage().hidden()) return; // internal (take-over): not for users
            acc.add(prefix + name);
            commands(sub, prefix + name + " ", acc);
        });
        return acc;
    }

    @Test
    void theCliPageRendersAndNamesEveryCommand() throws Exception {
        assertEquals(0, Main.run("man"));
        String roff = out.toString(StandardCharsets.UTF_8);
        assertTrue(roff.startsWith(".TH \"UBLK\\-GATEWAY\" 1 "), roff.lines().findFirst().orElse(""));
        assumeGroff();
        Path page = dir.resolve("ublk-gateway.1");
        Files.writeString(page, roff);
        String text = run("", "groff", "-man", "-Tutf8", "-ww", "-z", page.toString());
        assertEquals("", text.strip(), "groff warnings");
        String rendered = run("", "sh", "-c", "groff -man -Tascii " + page + " | col -b");
        for (String c : commands(new CommandLine(new Main()), "ublk-gateway ", new ArrayList<>())) {
            assertTrue(rendered.contains(c), c + " is missing from the page:\n" + rendered);
        }
        assertTrue(rendered.contains("--log-format=text|json"), rendered);
        assertTrue(rendered.contains("EXIT STATUS"), rendered);
    }

    @Test
    void outWritesOnePagePerComponent() throws Exception {
        assertEquals(0, Main.run("--plugins-dir", dir.resolve("no-plugins").toString(), "man", "--out", dir.toString()));
        assertTrue(Files.exists(dir.resolve("man1/ublk-gateway.1")));
        Path stats = dir.resolve("man5/ublk-gateway-stage-stats.5");
        Path file = dir.resolve("man5/ublk-gateway-target-file.5");
        assertTrue(Files.exists(stats) && Files.exists(file), out.toString());
        assumeGroff();
        String rendered = run("", "sh", "-c", "groff -man -Tascii -ww " + file + " 2>&1 | col -b");
        assertTrue(rendered.contains("type: file"), rendered);
        assertTrue(rendered.contains("path"), rendered);
        String cli = run("", "sh", "-c", "groff -man -Tascii " + dir.resolve("man1/ublk-gateway.1") + " | col -b");
        assertTrue(cli.contains("ublk-gateway-target-file(5)"), "SEE ALSO names the component pages");
    }

    @Test
    void bashCompletionParsesAndCompletesASubcommand() throws Exception {
        assertEquals(0, Main.run("completion", "bash"));
        Path script = dir.resolve("ublk-gateway.bash");
        Files.writeString(script, out.toString(StandardCharsets.UTF_8));
        assertTrue(new File("/bin/bash").canExecute(), "bash is needed");
        run("", "bash", "-n", script.toString());
        // compopt only works inside a real completion; a no-op stands in for it here
        String words = run("", "bash", "-c", "compopt() { :; }; source " + script + "; COMP_WORDS=(ublk-gateway re); COMP_CWORD=1; "
                + "COMP_LINE='ublk-gateway re'; COMP_POINT=${#COMP_LINE}; _complete_ublk-gateway; printf '%s\\n' \"${COMPREPLY[@]}\"");
        assertEquals(List.of("recover", "restart", "reload", "resize"), words.lines().map(String::strip).filter(s -> !s.isEmpty()).toList());
    }

    @Test
    void anUnknownShellIsOneLine() {
        assertEquals(2, Main.run("completion", "fish"));
    }

    private static void assumeGroff() {
        org.junit.jupiter.api.Assumptions.assumeTrue(new File("/usr/bin/groff").canExecute(), "groff is not installed");
    }
}
