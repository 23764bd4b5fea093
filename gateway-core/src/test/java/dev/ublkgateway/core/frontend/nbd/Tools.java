package dev.ublkgateway.core.frontend.nbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Runs the real NBD clients (libnbd-bin, qemu-utils, nbdkit) the tests use. */
public final class Tools {
    public record Result(int exit, String out) {}

    private Tools() {}

    public static boolean have(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    public static void require(String... tools) {
        for (String t : tools) {
            assumeTrue(have(t), t + " is not installed; install libnbd-bin, qemu-utils and nbdkit "
                    + "(tests/vm/install-deps.sh) to run the NBD client tests");
        }
    }

    public static Result run(String... cmd) throws IOException, InterruptedException {
        return run(120, List.of(cmd));
    }

    public static Result run(int timeoutSeconds, List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[][] out = new byte[1][];
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                out[0] = p.getInputStream().readAllBytes();
            } catch (IOException e) {
                out[0] = new byte[0];
            }
        });
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + String.join(" ", cmd));
        }
        reader.join();
        return new Result(p.exitValue(), new String(out[0], StandardCharsets.UTF_8));
    }

    /** Runs a command that must succeed; returns its output. */
    public static String ok(String... cmd) throws IOException, InterruptedException {
        Result r = run(cmd);
        if (r.exit() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ":\n" + r.out());
        return r.out();
    }
}
