package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.sys.Caller;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.plugins.PluginProblem;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.frontend.ublk.Unprivileged;

import java.nio.file.Path;
import java.util.logging.Logger;

/** Checks and loading shared by the commands. */
final class Common {
    private static final Logger LOG = Logger.getLogger(Common.class.getName());

    private Common() {}

    /** Loads the plugins (built-ins and the plugins directory), reporting broken ones without stopping. */
    static PluginHost plugins() {
        PluginHost host = PluginHost.load(Main.pluginsDir());
        for (PluginProblem p : host.problems()) LOG.warning(p.toString());
        return host;
    }

    static GatewayConfig load(Path file, PluginHost host) {
        return ConfigLoader.load(file, new ChainFactory(host).componentTypes());
    }

    /** As {@link #load}, for checking away from where the gateway runs: missing secrets are notes. */
    static ConfigLoader.Checked check(Path file, PluginHost host) {
        return ConfigLoader.check(file, new ChainFactory(host).componentTypes());
    }

    static void requireRoot(String command) throws UblkException {
        if (!Caller.isRoot()) {
            throw new UblkException("`" + command + "` needs root to manage ublk devices; run it as root (e.g. sudo)");
        }
    }

    /**
     * Checks that this caller may create ublk devices: root may; a non-root user needs access to the
     * control device and a kernel that creates unprivileged devices. Throws the one-line refusal.
     */
    static void requireUblkAccess() throws UblkException {
        if (Caller.isRoot()) return;
        try (UblkControl c = UblkControl.open()) {
            String refusal = Unprivileged.kernelRefusal(c.features()).orElse(null);
            if (refusal != null) throw new UblkException(refusal);
        }
    }
}
