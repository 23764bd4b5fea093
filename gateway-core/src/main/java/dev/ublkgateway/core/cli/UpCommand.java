package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.metrics.MetricsAddress;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.FrontendChoice;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.NbdService;
import dev.ublkgateway.core.runtime.StateStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    Serving serving;

    @Option(names = "--frontend", paramLabel = "ublk|nbd|auto", description = "serve every device this way, "
            + "overriding frontend: in the YAML file (auto: ublk when /dev/ublk-control exists and we are root, or "
            + "may create unprivileged devices, else NBD)")
    String frontend;

    @Option(names = "--nbd-listen", paramLabel = "ADDR", description = "NBD listen address, repeatable: "
            + "unix:/path/to.sock or host:port (default: the run directory's nbd.sock and 127.0.0.1:10809)")
    java.util.List<String> nbdListen = new java.util.ArrayList<>();

    @Mixin
    MetricsListen metricsListen;

    @Override
    public Integer call() throws Exception {
        serving.applyLogging();
        PluginHost host = Common.plugins();
        // the background gateway gets the option back; UBLKGW_FORCE_TAKEOVER=1 asks for it too
        boolean takeover = forceTakeover || "1".equals(System.getenv("UBLKGW_FORCE_TAKEOVER"));
        GatewayConfig config = Common.load(file, host);
        serving.applyLogging(config);
        FrontendChoice.checkOverride(frontend);
        nbdListen.forEach(dev.ublkgateway.core.frontend.nbd.ListenAddress::parse);
        MetricsAddress metrics = metricsListen.choose(config);
        java.util.List<DeviceConfig> viaUblk = config.devices().stream()
                .filter(d -> FrontendChoice.of(d, frontend).equals("ublk")).toList();
        if (!viaUblk.isEmpty()) {
            Common.requireUblkAccess();
            if (!dev.ublkgateway.core.sys.Caller.isRoot()) {
                for (DeviceConfig d : viaUblk) {
                    var refusal = dev.ublkgateway.core.frontend.ublk.Unprivileged.deviceRefusal(d.name(), d.recovery());
                    if (refusal.isPresent()) throw new dev.ublkgateway.core.frontend.ublk.UblkException(refusal.get());
                }
            }
        }
        StateStore states = StateStore.system();
        Gateway gateway = new Gateway(states, new ChainFactory(host, takeover));
        if (!serving.foreground) {
            gateway.checkNotRunning(config);
            describeChoice(config, frontend, nbdListen, states);
            java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("up", file.toAbsolutePath().toString()));
            if (frontend != null) args.addAll(java.util.List.of("--frontend", frontend));
            for (String a : nbdListen) args.addAll(java.util.List.of("--nbd-listen", a));
            if (takeover) args.add("--force-takeover");
            args.addAll(metricsListen.arguments());
            args.addAll(serving.logArguments());
            return Background.start(config, states, args.toArray(String[]::new));
        }
        if (metrics != null) gateway.serveMetrics(metrics); // first, so a taken port fails before any device exists
        gateway.up(config, frontend, nbdListen);
        for (DeviceConfig d : config.devices()) {
            DeviceState s = states.load(d.name()).orElseThrow();
            serving.result(d.name() + ": " + s.blockDevice());
        }
        return Serving.untilStopped(gateway, config.devices().size() + " device(s) serving from " + file.getFileName());
    }

    /** One line per device: which frontend it gets and, for NBD, how to connect. */
    private static void describeChoice(GatewayConfig config, String override, java.util.List<String> listen,
                                       StateStore states) {
        for (DeviceConfig d : config.devices()) {
            String chosen = FrontendChoice.of(d, override);
            String configured = override != null ? override : d.frontend().frontend();
            String why = configured.equals("auto") ? "frontend auto: " + chosen + ", " + FrontendChoice.autoReason()
                    : "frontend " + chosen;
            if (chosen.equals("nbd")) {
                java.util.List<String> uris = NbdService.listenAddresses(java.util.List.of(d), listen, states.dir()).stream()
                        .map(a -> a.uri(d.name(), d.frontend().tls().enabled())).toList();
                System.out.println(d.name() + ": " + why + "; connect with " + String.join(" or ", uris)
                        + " (e.g. nbdinfo, nbdcopy, qemu-img, or nbd-client for a /dev/nbdX)");
            } else {
                System.out.println(d.name() + ": " + why);
            }
        }
    }
}
