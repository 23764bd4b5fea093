package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "up", description = "Create and serve the devices of a YAML file. Without --foreground the "
        + "gateway runs in the background (log in the run directory) and this command returns once the devices exist.")
final class UpCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE.yaml", description = "devices to create")
    Path file;

    @Option(names = "--force-takeover", description = "take over chunked volumes whose lease a gateway that is gone still holds")
    boolean forceTakeover;

    @Option(names = "--foreground", description = "serve in this process until SIGINT/SIGTERM")
    boolean foreground;

    @Override
    public Integer call() throws Exception {
        PluginHost host = Common.plugins();
        if (forceTakeover) dev.ublkgateway.core.chunk.ChunkedTargetProvider.forceTakeover(true);
        GatewayConfig config = Common.load(file, host);
        Common.requireRoot("up");
        StateStore states = StateStore.system();
        Gateway gateway = new Gateway(states, new ChainFactory(host));
        if (!foreground) {
            gateway.checkNotRunning(config);
            return Background.start(config, states, "up", file.toAbsolutePath().toString());
        }
        gateway.up(config);
        for (DeviceConfig d : config.devices()) {
            DeviceState s = states.load(d.name()).orElseThrow();
            System.out.println(d.name() + ": " + s.blockDevice());
        }
        System.out.flush();
        gateway.awaitStop();
        return 0;
    }
}
