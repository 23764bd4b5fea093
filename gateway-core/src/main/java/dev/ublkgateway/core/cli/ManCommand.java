package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.plugins.Provided;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "man", description = "Print the ublk-gateway(1) man page (view it with `man -l FILE`), or with --out "
        + "write it and one page per component (built-in and installed plugins: ublk-gateway-KIND-NAME.5) into a directory.")
final class ManCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", paramLabel = "DIR", description = "write the pages here, e.g. /usr/local/share/man (into man1 and man5)")
    Path out;

    @Override
    public Integer call() throws Exception {
        String version = VersionInfo.buildVersion();
        try (PluginHost host = PluginHost.load(Main.pluginsDir())) {
            List<Provided> components = host.provided();
            String cli = ManPages.cli(spec.root().commandLine(), version, components);
            if (out == null) {
                System.out.print(cli);
                return 0;
            }
            Files.createDirectories(out.resolve("man1"));
            Files.createDirectories(out.resolve("man5"));
            Files.writeString(out.resolve("man1/ublk-gateway.1"), cli);
            for (Provided p : components) {
                Files.writeString(out.resolve("man5/" + ManPages.pageName(p) + ".5"), ManPages.component(p, version));
            }
            System.out.println("wrote " + (components.size() + 1) + " pages into " + out);
        }
        return 0;
    }
}
