package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.StageQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static dev.ublkgateway.core.stages.script.ScriptTestSupport.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every way out of the sandbox is attempted from inside a hook and must be refused: the hook then
 * denies with EACCES when the attempt threw (refused), and allows when it got through.
 */
class SandboxTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {
        "Java.type('java.lang.System').exit(1)",                       // host classes
        "Java.type('java.io.File')",
        "java.lang.System.getenv('HOME')",                              // package globals
        "Packages.java.lang.Runtime.getRuntime()",
        "Polyglot.eval('js', '1')",                                     // polyglot access
        "load('/etc/passwd')",                                          // file loading
        "require('fs').readFileSync('/etc/passwd')",                    // node modules
        "read('/etc/passwd')",
        "readline()",
        "new Worker('x.js')",                                           // threads
        "process.env.HOME",                                             // environment
        "fetch('http://127.0.0.1/')",                                   // network
        "quit()",
        "exit(1)",
        "print('x')",                                                   // output
        "Java.type('java.lang.Runtime').getRuntime().exec('id')",       // processes
        "Polyglot.import('x')",
        "WebAssembly.Module",                                           // other engines
        "Function('return this')().Java.type('java.io.File')",          // the global object, reached sideways
        "Object.getPrototypeOf(gateway).constructor.constructor('return Java')().type('java.io.File')",
        "eval('Java.type(\"java.io.File\")')",
        "new Function('return process')().env",
        "host.stateSet('k', '1')",                                      // the host API behind the prelude
        "gateway.log.caller",
        "gateway.deny = () => undefined",                               // the gateway object is frozen
        "gateway.errno.EIO = 0",
        "gateway.state.set = () => 1",
        "Object.defineProperty(globalThis, 'gateway', {value: {}})",
        "console.log = null",
        "gateway.state.set('k', 'x'.repeat(70000))",                    // limits on shared state
        "for (let i = 0; i < 20000; i++) gateway.count('c' + i)",
        "gateway.count('c'.repeat(100000))",
        "gateway.state.set('k'.repeat(100000), 1)",
        "gateway.setRateLimit({iops: -1})",
        "gateway.setRateLimit({iops: 1e300})",
    })
    void forbiddenAccessIsRefused(String attempt) throws IOException {
        Path js = write(dir, "s.js", """
                export function onRequest(req) {
                  try { %s; } catch (e) { return gateway.deny('EACCES'); }
                }
                """.formatted(attempt));
        try (ScriptStage s = stage(js, false, 2000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(-13, q.submit(request(BlockOp.READ, 0, 4096), new CountingTarget()), attempt + " was not refused");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Math.max(1, 2)", "JSON.stringify({a: 1})", "gateway.now()", "console.log('hi')"})
    void ordinaryJavaScriptRuns(String harmless) throws IOException {
        Path js = write(dir, "ok.js", """
                export function onRequest(req) {
                  try { %s; } catch (e) { return gateway.deny('EACCES'); }
                }
                """.formatted(harmless));
        try (ScriptStage s = stage(js, false, 2000, 1000, List.of()); StageQueue q = open(s)) {
            assertEquals(4096, q.submit(request(BlockOp.READ, 0, 4096), new CountingTarget()), harmless + " was refused");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "import fs from 'fs';",
        "import * as x from '/etc/passwd';",
        "import('./other.js');",
    })
    void importsAreRefused(String attempt) throws IOException {
        write(dir, "other.js", "export const x = 1;\n");
        Path js = write(dir, "i.js", attempt + "\nexport function onRequest(req) {}\n");
        if (attempt.startsWith("import(")) {
            // a dynamic import is a promise that rejects: the script loads, the import does not
            Path js2 = write(dir, "i2.js", """
                    let failed = false;
                    import('./other.js').then(() => {}, () => { failed = true; });
                    export function onRequest(req) { return failed ? gateway.deny('EACCES') : undefined; }
                    """);
            try (ScriptStage s = stage(js2, false, 2000, 1000, List.of()); StageQueue q = open(s)) {
                assertEquals(-13, q.submit(request(BlockOp.READ, 0, 4096), new CountingTarget()));
            }
            return;
        }
        List<ScriptProblem> problems = ScriptChecker.check(js);
        assertFalse(problems.isEmpty(), attempt + " was allowed");
    }
}
