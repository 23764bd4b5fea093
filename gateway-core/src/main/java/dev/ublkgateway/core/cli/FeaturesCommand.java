package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.frontend.ublk.DataPath;
import dev.ublkgateway.core.frontend.ublk.Uapi;
import dev.ublkgateway.core.frontend.ublk.UblkControl;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "features", description = "Show the ublk features this kernel's driver supports.")
final class FeaturesCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        long f = kernelFeatures();
        if (f == 0) {
            System.out.println("this kernel predates GET_FEATURES (Linux < 6.5); assuming the 6.1 baseline");
            return 0;
        }
        System.out.printf("ublk features: 0x%x (Linux %s)%n", f, System.getProperty("os.version"));
        System.out.printf("  %-24s %-5s %-7s %s%n", "FEATURE", "HERE", "SINCE", "USED FOR");
        int top = Math.max(Uapi.knownFeatureCount(), 64 - Long.numberOfLeadingZeros(f));
        for (int b = 0; b < top; b++) {
            System.out.printf("  %-24s %-5s %-7s %s%n", Uapi.featureName(b), (f & (1L << b)) != 0 ? "yes" : "no",
                    Uapi.featureSince(b), usedFor(b));
        }
        System.out.println("data path of a file target (no stages that touch data): " + fileDataPath(f).label());
        return 0;
    }

    /** The driver's feature bits (0 before Linux 6.5, which lacks GET_FEATURES). */
    static long kernelFeatures() throws UblkException {
        try (UblkControl c = UblkControl.open()) {
            return c.features();
        }
    }

    /** What a file target device gets on a kernel with these features (see DataPath). */
    static DataPath fileDataPath(long kernelFeatures) {
        return (kernelFeatures & Uapi.F_AUTO_BUF_REG) != 0 ? DataPath.ZERO_COPY : DataPath.COPY;
    }

    /** What the gateway does with a feature bit (README, Requirements). */
    static String usedFor(int bit) {
        return switch (bit) {
            case 3 -> "recovery: true (the device survives its gateway)";
            case 4 -> "recovery: true (requests in flight at the crash are re-issued)";
            case 5 -> "devices of non-root users (up without root)";
            case 6 -> "every control and I/O command (ioctl encoding)";
            case 7 -> "null target without stages: no data copied";
            case 11 -> "file target: zero copy (READ_FIXED/WRITE_FIXED on the request's pages)";
            case 15 -> "batch-io: true (requests fetched and answered in batches)";
            default -> "";
        };
    }
}
