package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.config.ConfigException;
import dev.ublkgateway.core.frontend.ublk.UblkException;
import dev.ublkgateway.core.log.LogFormat;
import dev.ublkgateway.core.log.LogLevel;
import dev.ublkgateway.core.log.LogSetup;
import dev.ublkgateway.core.plugins.PluginHost;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;

/** The `ublk-gateway` command. Every failure ends as one line on stderr, never a stack trace. */
@Command(name = "ublk-gateway", mixinStandardHelpOptions = true, versionProvider = VersionInfo.class,
        description = "Serve YAML-declared block volumes as Linux ublk devices (/dev/ublkbN).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:failure: one line on stderr names the problem and the fix",
                "2:bad usage: unknown option, missing or invalid argument"},
        subcommands = {UpCommand.class, DownCommand.class, ListCommand.class, FeaturesCommand.class,
                ValidateCommand.class, RecoverCommand.class, UpgradeCommand.class, RestartCommand.class, ReloadCommand.class, TakeOverCommand.class, PluginsCommand.class, StatsCommand.class, ProgressCommand.class, ResizeCommand.class, VolumeCommand.class, UdevOwnerCommand.class, ManCommand.class, CompletionCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static {
        // Before any logger exists: the log manager reads these once, when it is first used.
        System.setProperty("java.util.logging.manager", ShutdownSafeLogManager.class.getName());
    }

    private static String pluginsDirOption;

    @CommandLine.Option(names = "--plugins-dir", scope = CommandLine.ScopeType.INHERIT, paramLabel = "DIR",
            description = "where plugins are installed (default: $UBLKGW_PLUGINS_DIR or " + PluginHost.DEFAULT_DIR + ")")
    void setPluginsDir(String dir) {
        pluginsDirOption = dir;
    }

    /** The --plugins-dir given on the command line, to pass on to a background gateway. */
    static java.util.Optional<String> pluginsDirArgument() {
        return java.util.Optional.ofNullable(pluginsDirOption);
    }

    /** The plugins directory for this invocation. */
    static Path pluginsDir() {
        return PluginHost.resolveDir(pluginsDirOption);
    }

    public static void main(String[] args) {
        // every command logs in one format; `up` and `recover` may choose another level and format
        LogSetup.apply(LogLevel.INFO, LogFormat.TEXT);
        System.exit(run(args));
    }

    public static int run(String... args) {
        pluginsDirOption = null;
        CommandLine cli = commandLine();
        cli.setOut(new PrintWriter(System.out, true));
        cli.setErr(new PrintWriter(System.err, true));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // a configuration file can have several problems: one line each
            List<String> lines = e instanceof ConfigException ce ? ce.problems() : List.of(oneLine(e));
            for (String line : lines) cmd.getErr().println("ublk-gateway: " + line.replace('\n', ' '));
            return 1;
        });
        cli.setParameterExceptionHandler((e, a) -> {
            PrintWriter err = e.getCommandLine().getErr();
            // the full command (`ublk-gateway plugins list`), so the hint can be pasted as it is
            err.println("ublk-gateway: " + e.getMessage() + "; see `"
                    + e.getCommandLine().getCommandSpec().qualifiedName(" ") + " --help`");
            return 2;
        });
        return cli.execute(args);
    }

    /** The command tree as it parses arguments: --help everywhere, enum values in any case. */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        HelpOption.addToSubcommands(cli);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    /** The user-facing message of a failure: ours are written for users; others get their class named. */
    static String oneLine(Throwable e) {
        String m = e.getMessage();
        if (e instanceof java.nio.file.FileSystemException fe) {
            var runDir = dev.ublkgateway.core.runtime.RunDir.choose(dev.ublkgateway.core.sys.Caller.euid(),
                    dev.ublkgateway.core.sys.Caller.env());
            var explained = dev.ublkgateway.core.runtime.RunDir.explain(fe, runDir);
            if (explained.isPresent()) return explained.get();
        }
        if (e instanceof ConfigException || e instanceof UblkException || e instanceof IOException) {
            if (m != null) return m.replace('\n', ' ');
        }
        return (m == null ? e.getClass().getSimpleName() : e.getClass().getSimpleName() + ": " + m).replace('\n', ' ');
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
