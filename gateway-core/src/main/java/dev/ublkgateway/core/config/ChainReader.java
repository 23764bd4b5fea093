package dev.ublkgateway.core.config;

import dev.ublkgateway.api.Size;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the chain of a device: its {@code stages:}, its {@code script:} (or the top-level one) and
 * its {@code target:}, each bound to the config record of its type, and checks the order of the
 * stages against the {@link ComponentTypes#ordering() ordering rule}. Problems are recorded in
 * {@link Values}.
 */
final class ChainReader {

    private final Values values;
    private final ComponentTypes types;

    ChainReader(Values values, ComponentTypes types) {
        this.values = values;
        this.types = types;
    }

    /**
     * {@code script: path.js} or {@code script: {path: ..., fail: open, ...}} (on a device, or at the top
     * level for every device without its own): the {@code script} stage, which the chain puts first.
     */
    ComponentSpec script(YamlNode.Entry entry, String label) {
        Class<?> configClass = types.stageClass("script").orElseThrow(() -> values.at(entry,
                "script: needs the script stage, which is not available here; remove script:"));
        YamlNode.Mapping mapping;
        if (entry.value() instanceof YamlNode.Mapping given) {
            mapping = given;
        } else if (entry.value() instanceof YamlNode.Scalar s && !Values.isEmpty(s)) {
            mapping = new YamlNode.Mapping(Map.of("path", new YamlNode.Entry("path", s.line(), s.column(), s)),
                    s.line(), s.column());
        } else {
            throw values.typeError("script", entry.value(), "a path or a mapping",
                    "write script: policy.js, or script: {path: policy.js, fail: open, timeout-ms: 20}");
        }
        return new ComponentBinder(values, ComponentSpec.STAGE, "under script:")
                .spec("script", configClass, mapping, label, entry.line(), entry.column());
    }

    ComponentSpec target(YamlNode node, String label) {
        String known = String.join(", ", types.targetNames());
        if (!(node instanceof YamlNode.Mapping t)) {
            throw values.typeError("target", node, "a mapping",
                    "write target: as a mapping with type: and the target's options");
        }
        YamlNode.Entry typeEntry = t.entry("type");
        if (typeEntry == null) {
            throw values.at(t, "the target of " + label + " has no \"type\"; add type: <type>, one of " + known);
        }
        String type = values.string("type", typeEntry.value(), "use one of " + known);
        Class<?> configClass = types.targetClass(type).orElseThrow(
                () -> unknownType("target", type, typeEntry.value(), types.targetNames()));
        return new ComponentBinder(values, ComponentSpec.TARGET, "under target:", types)
                .spec(type, configClass, t, label, t.line(), t.column());
    }

    /** The bound stages; problems are recorded (the list then misses the stages that had one). */
    List<ComponentSpec> stages(YamlNode node, String label) {
        if (Values.isNull(node)) {
            return List.of();
        }
        if (!(node instanceof YamlNode.Sequence seq)) {
            values.report(values.typeError("stages", node, "a list",
                    "list the stages under stages:, each as a mapping starting with \"- type:\""));
            return List.of();
        }
        List<ComponentSpec> stages = new ArrayList<>();
        for (int i = 0; i < seq.items().size(); i++) {
            YamlNode item = seq.items().get(i);
            String stageLabel = "stage #" + (i + 1) + " of " + label;
            ComponentSpec spec = values.attempt(() -> stage(item, stageLabel, label));
            if (spec != null) {
                stages.add(spec);
            }
        }
        return stages;
    }

    private ComponentSpec stage(YamlNode node, String stageLabel, String label) {
        if (!(node instanceof YamlNode.Mapping s)) {
            throw values.at(node, stageLabel + " is " + node.describe()
                    + ", not a mapping; write each stage as a mapping with type: and the stage's options,"
                    + " e.g. - type: stats");
        }
        YamlNode.Entry typeEntry = s.entry("type");
        String known = types.stageNames().isEmpty() ? "(none)" : String.join(", ", types.stageNames());
        if (typeEntry == null) {
            throw values.at(s, stageLabel + " has no \"type\"; add type: <type>, one of " + known);
        }
        String type = values.string("type", typeEntry.value(), "use one of " + known);
        Class<?> configClass = types.stageClass(type).orElseThrow(
                () -> unknownType("stage", type, typeEntry.value(), types.stageNames()));
        return new ComponentBinder(values, ComponentSpec.STAGE, "to the stage")
                .spec(type, configClass, s, label, s.line(), s.column());
    }

    private ConfigException unknownType(String kind, String type, YamlNode at, Set<String> names) {
        if (names.isEmpty()) {
            return values.at(at, "unknown " + kind + " type " + Size.quote(type) + "; remove the " + kind
                    + " (no " + kind + " types are available)");
        }
        String known = String.join(", ", names);
        String near = Names.closest(type, names);
        return values.at(at, "unknown " + kind + " type " + Size.quote(type) + "; "
                + (near != null ? "did you mean \"" + near + "\"? (known: " + known + ")" : "known: " + known));
    }

    /**
     * Applies the ordering rule to each stage and what follows it (the next stage, or the target
     * after the last), reporting at the stage that may not come first. Types are taken as written,
     * so a stage whose options have a problem still takes part; unknown types are skipped (they
     * are reported already).
     */
    void checkOrder(YamlNode stagesNode, YamlNode targetNode, String label) {
        if (!(stagesNode instanceof YamlNode.Sequence seq) || seq.items().isEmpty()) {
            return;
        }
        int n = seq.items().size();
        List<String> chain = new ArrayList<>(n + 1);
        for (YamlNode item : seq.items()) {
            chain.add(writtenType(item, types.stageNames()));
        }
        chain.add(writtenType(targetNode, types.targetNames()));
        for (int i = 0; i < n; i++) {
            String stage = chain.get(i);
            String next = chain.get(i + 1);
            if (stage == null || next == null) {
                continue;
            }
            String problem = types.ordering().problem(stage, next);
            if (problem != null) {
                String what = i + 1 < n ? "stage \"" + next + "\"" : "target \"" + next + "\"";
                values.report(values.at(seq.items().get(i), "stage \"" + stage + "\" cannot precede " + what
                        + " in " + label + " (" + ConfigException.oneLine(problem) + "); reorder or remove the stages"));
            }
        }
    }

    /** The {@code type:} of a stage or target mapping if it is one of {@code known}, else null. */
    private static String writtenType(YamlNode node, Set<String> known) {
        if (node instanceof YamlNode.Mapping m && m.entry("type") != null
                && m.entry("type").value() instanceof YamlNode.Scalar s && known.contains(s.text())) {
            return s.text();
        }
        return null;
    }
}
