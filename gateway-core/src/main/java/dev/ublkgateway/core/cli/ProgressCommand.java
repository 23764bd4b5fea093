package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.OperationProgress;
import dev.ublkgateway.core.runtime.ProgressFile;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "progress", description = "Follow a device's long operations (a flush, a recovery, a cache drain, "
        + "a large discard) until they end: bars on a terminal, a plain line every 5 s otherwise.")
final class ProgressCommand implements Callable<Integer> {
    @Parameters(paramLabel = "NAME|ID")
    String device;

    @Override
    public Integer call() throws Exception {
        StateStore states = StateStore.system();
        DeviceState s = states.find(device).orElseThrow(() -> new UblkException("no device named " + device
                + " is up; see `ublk-gateway list`"));
        List<String> name = List.of(s.name());
        ProgressFile now = ProgressFile.read(states.dir(), s.name()).orElse(null);
        if (now == null || now.running().isEmpty()) {
            System.out.println(s.name() + ": no long operation running" + (now == null || now.operations().isEmpty() ? ""
                    : " (last: " + describe(now.operations().getLast()) + ")"));
            return 0;
        }
        long from = now.running().stream().mapToLong(OperationProgress::startedAt).min().orElseThrow();
        OperationWatch watch = new OperationWatch(states.dir(), op -> op.startedAt() >= from, Progress::onStdout);
        while (true) {
            watch.poll(name);
            ProgressFile f = ProgressFile.read(states.dir(), s.name()).orElse(null);
            if (f == null || f.running().isEmpty()) break;
            Thread.sleep(200);
        }
        watch.poll(name);
        watch.finishAll();
        return watch.failures().isEmpty() ? 0 : 1;
    }

    static String describe(OperationProgress op) {
        return op.operation() + " of " + Progress.bytes(op.total()) + ", " + op.state()
                + (op.failure() == null ? "" : ": " + op.failure());
    }
}
