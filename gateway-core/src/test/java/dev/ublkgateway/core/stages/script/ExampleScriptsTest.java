package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Errno;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** The scripts shipped in scripts/ load, and the protect-range one does what it says. */
class ExampleScriptsTest {
    static final Path DIR = Path.of("..", "examples", "policies");

    @Test
    void everyShippedScriptChecksClean() throws IOException {
        List<Path> scripts;
        try (Stream<Path> s = Files.list(DIR)) {
            scripts = s.filter(p -> p.toString().endsWith(".js")).sorted().toList();
        }
        assertTrue(scripts.size() >= 5, "examples: " + scripts);
        for (Path p : scripts) assertEquals(List.of(), ScriptChecker.check(p), p.toString());
    }

    @Test
    void protectRangeDeniesWritesToTheFirstMiBOnly() throws IOException {
        try (ScriptStage s = stage(DIR.resolve("protect-range.js"), false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            CountingTarget t = new CountingTarget();
            assertEquals(-Errno.EPERM, q.submit(request(BlockOp.WRITE, 512 * 1024, 4096), t));
            assertEquals(-Errno.EPERM, q.submit(request(BlockOp.DISCARD, 0, 2 << 20), t));
            assertEquals(4096, q.submit(request(BlockOp.WRITE, 1 << 20, 4096), t));
            assertEquals(4096, q.submit(request(BlockOp.READ, 0, 4096), t));
        }
    }
}
