package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.plugins.PluginArchive;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.plugins.PluginInstaller;
import dev.ublkgateway.core.plugins.PluginProblem;
import dev.ublkgateway.core.plugins.Provided;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "plugins", description = "List, install, remove and describe plugins.",
        subcommands = {PluginsCommand.ListPlugins.class, PluginsCommand.Install.class, PluginsCommand.Remove.class,
                PluginsInfoCommand.class})
final class PluginsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "list", description = "Installed plugins and built-ins: id, version, what they provide, state.")
    static final class ListPlugins implements Callable<Integer> {
        @Override
        public Integer call() {
            Path dir = Main.pluginsDir();
            try (PluginHost host = PluginHost.load(dir)) {
                Table table = new Table(java.util.Set.of(), "ID", "VERSION", "STATE", "PROVIDES");
                table.add(Provided.BUILT_IN, "-", "started", provides(host, Provided.BUILT_IN));
                for (var w : host.plugins()) {
                    table.add(w.getPluginId(), w.getDescriptor().getVersion(), "started", provides(host, w.getPluginId()));
                }
                // set aside: the id and archive file, since a refused archive may share its id with a started plugin
                for (PluginProblem p : host.problems()) {
                    table.add(p.archive(), "-", "refused", p.message());
                }
                table.print(System.out);
                System.out.println("(plugins directory: " + dir + ")");
            }
            return 0;
        }

        private static String provides(PluginHost host, String owner) {
            List<Provided> mine = host.provided().stream().filter(p -> p.pluginId().equals(owner)).toList();
            if (mine.isEmpty()) return "nothing";
            return mine.stream().map(p -> p.kind() + " " + p.name()).collect(Collectors.joining(", "));
        }
    }

    @Command(name = "install", description = "Validate a plugin archive (.jar or .zip) and copy it into the plugins directory.")
    static final class Install implements Callable<Integer> {
        @Parameters(paramLabel = "ARCHIVE")
        Path archive;

        @Option(names = "--upgrade", description = "replace an installed plugin with the same id")
        boolean upgrade;

        @Override
        public Integer call() throws Exception {
            PluginArchive a = new PluginInstaller(Main.pluginsDir()).install(archive, upgrade);
            System.out.println("installed " + a.id() + " " + a.version() + " into " + Main.pluginsDir()
                    + "; running gateways load it at their next start");
            return 0;
        }
    }

    @Command(name = "remove", description = "Remove an installed plugin by id.")
    static final class Remove implements Callable<Integer> {
        @Parameters(paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws Exception {
            PluginArchive a = new PluginInstaller(Main.pluginsDir()).remove(id);
            System.out.println("removed " + a.id() + " " + a.version());
            return 0;
        }
    }
}
