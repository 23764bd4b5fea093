package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.plugins.Provided;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "info", description = "What a plugin (or `built-in`) provides, with each component's options.")
final class PluginsInfoCommand implements Callable<Integer> {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
        try (PluginHost host = PluginHost.load(Main.pluginsDir())) {
            List<Provided> mine = host.provided().stream().filter(p -> p.pluginId().equals(id)).toList();
            if (mine.isEmpty()) {
                var problem = host.problems().stream().filter(p -> p.archive().startsWith(id + " ")).findFirst();
                if (problem.isPresent()) throw new java.io.IOException(problem.get().toString());
                throw new java.io.IOException("no plugin with id " + id + " is installed; see `ublk-gateway plugins list`");
            }
            host.plugins().stream().filter(w -> w.getPluginId().equals(id)).findFirst().ifPresent(w ->
                    System.out.println(id + " " + w.getDescriptor().getVersion() + " (" + w.getPluginPath().getFileName()
                            + "): " + w.getDescriptor().getPluginDescription()));
            for (Provided p : mine) {
                System.out.println(p.kind() + " " + p.name() + ": " + OptionDocs.description(p.provider()));
                for (String line : OptionDocs.options(p.provider())) System.out.println("    " + line);
            }
        }
        return 0;
    }
}
