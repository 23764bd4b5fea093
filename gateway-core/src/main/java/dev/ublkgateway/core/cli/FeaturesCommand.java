package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.ublk.Uapi;
import dev.ublkgateway.core.ublk.UblkControl;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

@Command(name = "features", description = "Show the ublk features this kernel's driver supports.")
final class FeaturesCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        long f;
        try (UblkControl c = UblkControl.open()) {
            f = c.features();
        }
        if (f == 0) {
            System.out.println("this kernel predates GET_FEATURES (Linux < 6.5); assuming the 6.1 baseline");
            return 0;
        }
        System.out.printf("ublk features: 0x%x%n", f);
        for (int b = 0; b < 20; b++) {
            System.out.printf("  %-24s %s%n", Uapi.featureName(b), (f & (1L << b)) != 0 ? "yes" : "no");
        }
        return 0;
    }
}
