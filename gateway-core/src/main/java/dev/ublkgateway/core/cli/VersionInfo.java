package dev.ublkgateway.core.cli;

import dev.ublkgateway.api.ApiVersion;
import dev.ublkgateway.core.frontend.ublk.Uapi;
import picocli.CommandLine.IVersionProvider;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * What `ublk-gateway --version` prints: the build's version, the plugin API version, and what this
 * kernel's ublk driver supports, so that one paste says which gateway runs on which kernel.
 */
final class VersionInfo implements IVersionProvider {
    /** Reads the driver's feature bits; may fail (no driver, no permission). */
    interface FeatureReader {
        long read() throws Exception;
    }

    @Override
    public String[] getVersion() {
        return lines(Files.exists(Path.of(Uapi.CONTROL_DEVICE)), FeaturesCommand::kernelFeatures).toArray(String[]::new);
    }

    static List<String> lines(boolean controlExists, FeatureReader features) {
        return List.of("ublk-gateway " + buildVersion(), "plugin API " + ApiVersion.CURRENT, ublkLine(controlExists, features));
    }

    /** The project version Maven wrote into build.properties. */
    static String buildVersion() {
        try (InputStream in = VersionInfo.class.getResourceAsStream("build.properties")) {
            if (in == null) return "unknown (build.properties is missing from the jar; rebuild with mvn package)";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    static String ublkLine(boolean controlExists, FeatureReader features) {
        if (!controlExists) return "ublk: not available (" + Uapi.CONTROL_DEVICE + " is missing; ublk_drv is not loaded)";
        long f;
        try {
            f = features.read();
        } catch (Exception e) {
            return "ublk: not available (" + Main.oneLine(e) + ")";
        }
        if (f == 0) return "ublk: driver predates GET_FEATURES (Linux < 6.5), Linux " + System.getProperty("os.version");
        return String.format("ublk: features 0x%x (%s), Linux %s", f, Uapi.featureNames(f), System.getProperty("os.version"));
    }
}
