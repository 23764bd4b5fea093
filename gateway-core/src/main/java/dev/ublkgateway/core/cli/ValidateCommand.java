package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.api.Size;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "validate", description = "Check a YAML file without creating anything. Secrets need not be "
        + "present: one whose variable is unset or whose file is missing here is a note, not an error.")
final class ValidateCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE.yaml")
    Path file;

    @Override
    public Integer call() {
        GatewayConfig config;
        java.util.List<String> notes;
        try (var host = Common.plugins()) {
            var checked = Common.check(file, host);
            config = checked.config();
            notes = checked.notes();
        }
        for (String note : notes) System.err.println("ublk-gateway: " + note);
        for (DeviceConfig d : config.devices()) {
            String stages = d.stages().isEmpty() ? "" : "stages " + d.stages().stream().map(x -> x.type())
                    .collect(java.util.stream.Collectors.joining(" > ")) + ", ";
            System.out.printf("%s: %s, " + stages + "%s target, block size %d, %d queue(s) x %d, max I/O %s%s%n", d.name(),
                    Size.format(d.sizeBytes()), d.target().type(), d.blockSize(), d.queues(), d.depth(),
                    Size.format(d.maxIoBytes()), d.recovery() ? ", recoverable" : "");
        }
        System.out.println(file + ": ok (" + config.devices().size() + " device(s)"
                + (notes.isEmpty() ? "" : ", " + notes.size() + " note(s)") + ")");
        return 0;
    }
}
