package dev.ublkgateway.core.stages.script;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.write;
import static org.junit.jupiter.api.Assertions.*;

class ScriptCheckerTest {
    @TempDir
    Path dir;

    @Test
    void goodScriptHasNoProblems() throws IOException {
        assertEquals(List.of(), ScriptChecker.check(write(dir, "ok.js", "export function onRequest(r) {}\n")));
    }

    @Test
    void syntaxErrorHasLineAndColumn() throws IOException {
        Path p = write(dir, "syn.js", "// policy\nexport function onRequest(r) {\n  if (r.op === 'write' {\n  }\n}\n");
        List<ScriptProblem> problems = ScriptChecker.check(p, "syn.js");
        assertEquals(1, problems.size(), problems.toString());
        ScriptProblem pr = problems.getFirst();
        assertEquals(3, pr.line());
        assertTrue(pr.column() > 1, pr.toString());
        assertTrue(pr.message().startsWith("syntax error: Expected ) but found {; fix the syntax"), pr.message());
        assertTrue(pr.format("syn.js").startsWith("syn.js:3:"), pr.format("syn.js"));
    }

    @Test
    void noHookExported() throws IOException {
        List<ScriptProblem> problems = ScriptChecker.check(write(dir, "none.js", "function onRequest(r) {}\n"));
        assertEquals(1, problems.size());
        assertTrue(problems.getFirst().message().contains("exports no hook"), problems.toString());
    }

    @Test
    void misspeltHookIsNamedWithItsPosition() throws IOException {
        List<ScriptProblem> problems = ScriptChecker.check(write(dir, "typo.js",
                "export function onTick(s) {}\n\nexport function onRequst(r) {}\n"));
        assertEquals(1, problems.size());
        assertEquals(3, problems.getFirst().line());
        assertEquals(1, problems.getFirst().column());
        assertTrue(problems.getFirst().message().contains("did you mean onRequest?"), problems.toString());
    }

    @Test
    void hookThatIsNotAFunction() throws IOException {
        List<ScriptProblem> problems = ScriptChecker.check(write(dir, "nf.js", "export const onRequest = 5;\n"));
        assertTrue(problems.getFirst().message().contains("onRequest is not a function"), problems.toString());
        assertEquals(1, problems.getFirst().line());
    }

    @Test
    void topLevelErrorIsReportedWhereItHappened() throws IOException {
        List<ScriptProblem> problems = ScriptChecker.check(write(dir, "top.js",
                "export function onRequest(r) {}\nconst x = undefinedThing.y;\n"));
        assertEquals(2, problems.getFirst().line(), problems.toString());
        assertTrue(problems.getFirst().message().contains("undefinedThing"), problems.toString());
    }

    @Test
    void missingFile() {
        List<ScriptProblem> problems = ScriptChecker.check(dir.resolve("missing.js"));
        assertEquals(0, problems.getFirst().line());
        assertTrue(problems.getFirst().message().contains("no such file"));
    }
}
