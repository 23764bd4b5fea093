package dev.ublkgateway.core.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** `-h`/`--help` on every subcommand: each prints its own usage and exits 0. */
final class HelpOption {
    private HelpOption() {}

    /**
     * Adds the option to every subcommand, at any depth, that does not have one yet (picocli's `help`
     * command has its own). Done here rather than per class so that a new command cannot miss it.
     */
    static void addToSubcommands(CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            if (sub.getCommandSpec().findOption("--help") == null) {
                sub.getCommandSpec().addOption(OptionSpec.builder("-h", "--help").usageHelp(true)
                        .description("Show this help message and exit.").build());
            }
            addToSubcommands(sub);
        }
    }
}
