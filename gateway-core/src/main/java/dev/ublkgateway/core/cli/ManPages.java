package dev.ublkgateway.core.cli;

import dev.ublkgateway.core.plugins.Provided;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.util.List;
import java.util.Map;

/** The man pages: one for the command line (from picocli's model), one per component (from its config record). */
final class ManPages {
    static final String MANUAL = "ublk-gateway manual";

    private ManPages() {}

    /** ublk-gateway(1): every command, at any depth, with its options and arguments. */
    static String cli(CommandLine root, String version, List<Provided> components) {
        CommandSpec spec = root.getCommandSpec();
        Roff r = new Roff("UBLK-GATEWAY", 1, "ublk-gateway " + version, MANUAL);
        r.section("NAME").line("ublk-gateway - " + String.join(" ", spec.usageMessage().description()));
        r.section("SYNOPSIS").line("ublk-gateway [OPTIONS] COMMAND [ARGS]");
        r.section("OPTIONS");
        options(r, spec);
        r.section("COMMANDS");
        commands(r, root);
        r.section("NBD OVER TLS");
        r.paragraph("Keys of a device in the YAML file, for its NBD frontend (clients connect with nbds:// URIs):");
        optionItems(r, OptionDocs.recordOptions(dev.ublkgateway.core.config.NbdTlsConfig.class));
        r.section("EXIT STATUS");
        for (Map.Entry<String, String> e : spec.usageMessage().exitCodeList().entrySet()) r.item(e.getKey(), e.getValue());
        r.section("SEE ALSO");
        r.line(String.join(", ", components.stream().map(p -> pageName(p) + "(5)").toList()));
        return r.toString();
    }

    private static void commands(Roff r, CommandLine cli) {
        for (CommandLine sub : cli.getSubcommands().values()) {
            CommandSpec s = sub.getCommandSpec();
            if (s.usageMessage().hidden()) continue;
            r.subsection(s.qualifiedName(" "));
            r.paragraph(synopsis(s));
            r.paragraph(String.join(" ", s.usageMessage().description()));
            for (PositionalParamSpec p : s.positionalParameters()) {
                if (!p.hidden()) r.item(p.paramLabel(), String.join(" ", p.description()));
            }
            options(r, s);
            commands(r, sub);
        }
    }

    private static String synopsis(CommandSpec s) {
        StringBuilder sb = new StringBuilder(s.qualifiedName(" "));
        if (!s.options().isEmpty()) sb.append(" [OPTIONS]");
        for (PositionalParamSpec p : s.positionalParameters()) if (!p.hidden()) sb.append(' ').append(p.paramLabel());
        if (!s.subcommands().isEmpty()) sb.append(" COMMAND");
        return sb.toString();
    }

    private static void options(Roff r, CommandSpec s) {
        for (OptionSpec o : s.options()) {
            if (o.hidden()) continue;
            String tag = String.join(", ", o.names()) + (o.arity().max() > 0 ? "=" + o.paramLabel() : "");
            r.item(tag, String.join(" ", o.description()));
        }
    }

    /** "key (facts): description" lines as items: the key as the tag. */
    private static void optionItems(Roff r, List<String> lines) {
        for (String line : lines) {
            int cut = line.indexOf(" (");
            if (cut < 0) r.paragraph(line);
            else r.item(line.substring(0, cut), line.substring(cut + 1));
        }
    }

    /** The page of one component, e.g. ublk-gateway-stage-stats(5). */
    static String component(Provided p, String version) {
        String name = pageName(p);
        Roff r = new Roff(name.toUpperCase(java.util.Locale.ROOT), 5, "ublk-gateway " + version, MANUAL);
        r.section("NAME").line(name + " - " + p.kind() + " " + p.name() + ": " + OptionDocs.description(p.provider()));
        r.section("SYNOPSIS").literal(p.kind().equals("stage") || p.kind().equals("target")
                ? "devices:\n  - name: NAME\n    ...\n    " + (p.kind().equals("stage") ? "stages:\n      - type: " : "target:\n      type: ") + p.name()
                : "type: " + p.name() + "   (inside the configuration of the component that uses a " + p.kind() + ")");
        r.section("PROVIDED BY").line(p.pluginId().equals(Provided.BUILT_IN) ? "the gateway itself (built-in)" : "plugin " + p.pluginId());
        r.section("OPTIONS");
        optionItems(r, OptionDocs.options(p.provider()));
        r.section("SEE ALSO").line("ublk-gateway(1)");
        return r.toString();
    }

    static String pageName(Provided p) {
        return "ublk-gateway-" + p.kind() + "-" + p.name();
    }
}
