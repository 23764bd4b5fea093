package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.StateStore;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "recover", description = "Re-attach a new gateway to a device whose gateway died "
        + "(devices created with recovery: true). I/O issued meanwhile waits and then completes.")
final class RecoverCommand implements Callable<Integer> {
    @Mixin
    DeviceRef device;

    @Mixin
    Serving serving;

    @Mixin
    MetricsListen metricsListen;

    @Override
    public Integer call() throws Exception {
        serving.applyLogging();
        if (!dev.ublkgateway.core.sys.Caller.isRoot()) {
            throw new UblkException(dev.ublkgateway.core.frontend.ublk.Unprivileged.recoverRefused());
        }
        StateStore states = StateStore.system();
        DeviceState s = device.state(states).orElseThrow(() -> device.unknown("known"));
        if (StateStore.alive(s.pid())) {
            throw new UblkException("device " + s.name() + " is still served by pid " + s.pid() + "; nothing to recover");
        }
        if (!s.recovery()) {
            throw new UblkException("device " + s.name() + " was not created with recovery: true; "
                    + "remove it with `ublk-gateway down " + s.name() + "` and run `up` again");
        }
        PluginHost host = Common.plugins();
        GatewayConfig config = Common.load(Path.of(s.config()), host);
        return serve(s, config, host, states, serving, metricsListen);
    }

    /**
     * Re-attaches a gateway to the device of {@code s}, which no process serves: in the background (a new
     * process running `recover NAME --foreground`), or here with --foreground. Shared with `upgrade`.
     */
    static int serve(DeviceState s, GatewayConfig config, PluginHost host, StateStore states, Serving serving,
                     MetricsListen metricsListen) throws Exception {
        serving.applyLogging(config);
        if (!serving.foreground) {
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("recover", s.name()));
            args.addAll(metricsListen.arguments());
            args.addAll(serving.logArguments());
            return Background.start(config.devices().size() == 1 ? config : single(config, s.name()), states,
                    args.toArray(String[]::new));
        }
        Gateway gateway = new Gateway(states, new ChainFactory(host));
        metricsListen.serveForRecovery(gateway, config); // first, as `up` does
        gateway.recover(config, s);
        serving.result(s.name() + ": " + s.blockDevice() + " recovered");
        return Serving.untilStopped(gateway, s.name() + " recovered, serving as " + s.blockDevice());
    }

    /** The file with only device {@code name}. */
    static GatewayConfig single(GatewayConfig c, String name) {
        return new GatewayConfig(c.source(), c.device(name).stream().toList(), null, c.logLevel());
    }
}
