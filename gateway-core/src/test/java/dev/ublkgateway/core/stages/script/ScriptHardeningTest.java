package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Errno;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/** What a script must not be able to do to the gateway's log, and verdicts that are not verdicts. */
class ScriptHardeningTest {
    @TempDir
    Path dir;

    private final List<LogRecord> logged = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override public void publish(LogRecord r) { logged.add(r); }
        @Override public void flush() {}
        @Override public void close() {}
    };

    @BeforeEach
    void listen() {
        DeviceScope.LOG.addHandler(capture);
        DeviceScope.LOG.setLevel(Level.ALL);
    }

    @AfterEach
    void stopListening() {
        DeviceScope.LOG.removeHandler(capture);
    }

    private int read(StageQueue q, long offset) {
        return q.submit(request(BlockOp.READ, offset, 4096), new CountingTarget());
    }

    @Test
    void aScriptCannotForgeLogLines() throws IOException {
        Path js = write(dir, "f.js", """
                export function onRequest(req) {
                  gateway.log('x\\n2026-12-05 10:00:00 SEVERE forged\\r\\u001b[2K\\u2028more');
                  if (req.offset === 4096) throw new Error('bad\\n2026-12-05 10:00:01 SEVERE forged too');
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(4096, read(q, 0));
            assertEquals(-Errno.EIO, read(q, 4096));
        }
        List<String> lines = logged.stream().map(LogRecord::getMessage).filter(m -> m.contains("forged")).toList();
        assertTrue(lines.get(0).endsWith("x\\n2026-12-05 10:00:00 SEVERE forged\\r\\u001b[2K\\u2028more"), lines.get(0));
        assertEquals(3, lines.size(), lines.toString());
        for (String m : lines) {
            assertFalse(m.chars().anyMatch(c -> c < 0x20 || c == 0x2028), "a control character reached the log: " + m);
        }
    }

    @Test
    void aScriptCannotFloodTheLog() throws IOException {
        Path js = write(dir, "flood.js", """
                const big = 'y'.repeat(100000);
                export function onRequest(req) { for (let i = 0; i < 50; i++) gateway.log(big); }
                """);
        try (ScriptStage s = stage(js, false, 5000, 1000, List.of()); StageQueue q = open(s)) {
            for (int i = 0; i < 20; i++) assertEquals(4096, read(q, 0)); // 1000 lines of 100 KB asked for
        }
        long chars = logged.stream().mapToLong(r -> r.getMessage().length()).sum();
        long lines = logged.stream().filter(r -> r.getMessage().contains("yyy")).count();
        assertEquals(100, lines, "at most LOG_LINES per window");
        assertTrue(chars < 200_000, "the log got " + chars + " characters from 100 MB of script output");
        assertTrue(logged.stream().allMatch(r -> r.getMessage().length() < 1200), "a line longer than the cap");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "return Promise.resolve(gateway.deny('EPERM'));",
        "return new Promise(() => {});",
        "return {then() {}};",
        "return [];",
        "return [gateway.deny('EPERM')];",
        "return new Map();",
        "return new Date();",
        "return {delay: 500};",
        "return {deny: 'EPERM', because: 'x'};",
    })
    void whatIsNotAVerdictFailsTheRequest(String ret) throws IOException {
        Path js = write(dir, "v.js", "export function onRequest(req) { " + ret + " }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(-Errno.EIO, read(q, 0), ret + " was taken as a verdict");
            assertEquals(1, ((HookQueue) q).failures);
        }
        String line = logged.stream().map(LogRecord::getMessage).filter(m -> m.contains("onRequest returned")).findFirst()
                .orElseThrow(() -> new AssertionError("no failure logged for " + ret + ": " + logged.stream().map(LogRecord::getMessage).toList()));
        assertTrue(line.contains("fail-closed: request failed with EIO"), line);
    }

    @Test
    void verdictsStillWork() throws IOException {
        Path js = write(dir, "ok.js", """
                export function onRequest(req) {
                  if (req.offset === 0) return {};
                  if (req.offset === 4096) return {deny: 'EROFS'};
                  if (req.offset === 8192) return Object.assign(Object.create(null), {tag: 'x'});
                  return {delayUs: 0, tag: 'y'};
                }
                """);
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(4096, read(q, 0));
            assertEquals(-Errno.EROFS, read(q, 4096));
            assertEquals(4096, read(q, 8192));
            assertEquals(4096, read(q, 12288));
            assertEquals(0, ((HookQueue) q).failures);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"export async function onRequest(req) {}", "export function* onRequest(req) {}",
        "export const onTick = async (s) => {};", "export async function* onAttach(d) {}"})
    void asyncAndGeneratorHooksAreRefusedWhenLoaded(String text) throws IOException {
        Path js = write(dir, "a.js", "// policy\n" + text + "\n");
        List<ScriptProblem> problems = ScriptChecker.check(js);
        assertEquals(1, problems.size(), problems.toString());
        assertEquals(2, problems.get(0).line(), problems.toString());
        assertTrue(problems.get(0).message().contains("make it a plain function"), problems.toString());
    }

    @Test
    void theFirstCallOfAHookMayTakeLongerThanItsBudget() throws IOException {
        // stands in for a cold engine: the first call of each hook is slow, later ones are quick
        Path js = write(dir, "cold.js", """
                let attached = false, served = false;
                const spin = (ms) => { const t = gateway.now(); while (gateway.now() - t < ms) {} };
                export function onAttach(d) { if (!attached) { attached = true; spin(300); } }
                export function onRequest(req) { if (!served) { served = true; spin(300); } }
                """);
        try (ScriptStage s = stage(js, false, 50, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(4096, read(q, 0), "the first call got its larger budget");
            assertEquals(4096, read(q, 0));
        }
        assertTrue(logged.stream().noneMatch(r -> r.getMessage().contains("time budget")),
                logged.stream().map(LogRecord::getMessage).toList().toString());
    }

    @Test
    void aFailingControlHookDoesNotTalkAboutARequest() throws IOException {
        Path js = write(dir, "att.js", "export function onAttach(d) { throw new Error('no config'); }\n");
        try (ScriptStage s = stage(js, false, 1000, 1000, List.of())) {
            assertNotNull(s);
        }
        String line = logged.stream().map(LogRecord::getMessage).filter(m -> m.contains("no config")).findFirst()
                .orElseThrow(() -> new AssertionError("onAttach failure not logged"));
        assertTrue(line.contains("in onAttach (the device serves on; fix the hook)"), line);
        assertFalse(line.contains("request"), line);
    }
}
