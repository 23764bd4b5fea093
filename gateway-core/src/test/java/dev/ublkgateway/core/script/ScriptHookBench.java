package dev.ublkgateway.core.script;

import dev.ublkgateway.api.BlockOp;
import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.StageQueue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.ublkgateway.core.script.ScriptTestSupport.*;

/**
 * Per-call cost of the hook once warm (not a test; run with {@code java -cp ... ScriptHookBench}):
 * a request passed through the script stage to a counting target, against the target alone.
 * Prints nanoseconds per request for each script, the best of several rounds.
 */
public final class ScriptHookBench {
    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 10;
        Path dir = Files.createTempDirectory("hook-bench");
        Path trivial = write(dir, "trivial.js", "export function onRequest(req) {}\n");
        Path protect = Path.of(args.length > 1 ? args[1] : "../scripts/protect-range.js");
        BlockRequest[] reqs = new BlockRequest[64];
        for (int i = 0; i < reqs.length; i++) reqs[i] = request(i % 4 == 0 ? BlockOp.WRITE : BlockOp.READ, (2L << 20) + i * 4096L, 4096);
        CountingTarget t = new CountingTarget();
        System.out.printf("baseline (target only): %.1f ns/request%n", measure(seconds, reqs, r -> t.submit(r)));
        for (Path p : List.of(trivial, protect)) {
            try (ScriptStage s = stage(p, false, 1000, 1000, List.of()); StageQueue q = open(s)) {
                double ns = measure(seconds, reqs, r -> q.submit(r, t));
                System.out.printf("%s: %.1f ns/request%n", p.getFileName(), ns);
            }
        }
        System.exit(0);
    }

    interface Call {
        int run(BlockRequest r);
    }

    private static double measure(long seconds, BlockRequest[] reqs, Call c) {
        double best = Double.MAX_VALUE;
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long sink = 0;
        while (System.nanoTime() < end) {
            int n = 200_000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) sink += c.run(reqs[i & 63]);
            best = Math.min(best, (System.nanoTime() - t0) / (double) n);
        }
        if (sink == 42) System.out.print("");
        return best;
    }
}
