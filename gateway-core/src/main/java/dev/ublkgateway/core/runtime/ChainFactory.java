package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetProvider;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.config.ComponentTypes;
import dev.ublkgateway.core.config.DeviceConfig;
import dev.ublkgateway.core.config.FileTargetConfig;
import dev.ublkgateway.core.config.ComponentSpec;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.plugins.Provided;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Builds a device's chain (its stages, then its target) from the providers the plugin host loaded. */
public final class ChainFactory {
    private final PluginHost host;
    private final boolean forceTakeover;
    private final java.util.Map<String, ProgressBoard> boards = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile java.nio.file.Path progressDir;

    public ChainFactory(PluginHost host) {
        this(host, false);
    }

    /** @param forceTakeover {@code up --force-takeover}: targets take over volumes whose lease another gateway holds */
    public ChainFactory(PluginHost host, boolean forceTakeover) {
        this.host = host;
        this.forceTakeover = forceTakeover;
    }

    /** Targets opened from now on publish their long operations in {@code runDir} ({@link ProgressFile}). */
    public void publishProgressIn(java.nio.file.Path runDir) {
        progressDir = runDir;
    }

    /** Where this process publishes the device's long operations: one board per device, shared by its target and the gateway. */
    public ProgressReporter progress(String device) {
        java.nio.file.Path dir = progressDir;
        if (dir == null) return ProgressReporter.NONE;
        return boards.computeIfAbsent(device, n -> new ProgressBoard(dir, n));
    }

    /** The names and config types the YAML may use, with the stages' ordering rules. */
    public ComponentTypes componentTypes() {
        ComponentTypes types = new ComponentTypes(java.util.Map.of(), java.util.Map.of());
        for (Provided p : host.provided()) {
            if (p.provider() instanceof TargetProvider<?> t) types = types.withTarget(t.name(), t.configType());
            if (p.provider() instanceof StageProvider<?> s) types = types.withStage(s.name(), s.configType());
            if (p.provider() instanceof ChunkCodecProvider<?> c) types = types.withCodec(c.name(), c.configType());
            if (p.provider() instanceof ObjectStoreProvider<?> o) types = types.withStore(o.name(), o.configType());
        }
        return types.withOrderingRule((stage, next) -> host.stage(stage).map(p -> p.cannotPrecede(next)).orElse(null))
                .withCodecOrderingRule((earlier, later) -> codecOrderProblem(codec(earlier), codec(later)));
    }

    private ChunkCodecProvider<?> codec(String name) {
        return host.find("codec", name).map(p -> (ChunkCodecProvider<?>) p.provider()).orElse(null);
    }

    /** Null when {@code later} may follow {@code earlier} in a volume's codec list, else why not. */
    public static String codecOrderProblem(ChunkCodecProvider<?> earlier, ChunkCodecProvider<?> later) {
        if (earlier == null || later == null) return null;
        if (earlier.encrypts() && later.compresses()) {
            return "it compresses, and the output of an encrypting codec does not compress: list compression first";
        }
        return null;
    }

    /**
     * What offline volume operations get: the loaded plugins' codecs and stores; no progress is published
     * (the command shows its own).
     */
    public ProviderContext providerContext(String device) {
        return new HostProviderContext(host, device, forceTakeover, ProgressReporter.NONE);
    }

    public static DeviceDescriptor descriptor(DeviceConfig d) {
        return new DeviceDescriptor(d.name(), d.sizeBytes(), d.blockSize(), d.queues(), d.depth(), d.maxIoBytes());
    }

    /**
     * Opens the device's target and creates its stages. {@code recovering}: re-attaching after a crash,
     * so the target keeps its data.
     */
    public DeviceChain open(DeviceConfig d, boolean recovering) throws IOException {
        DeviceDescriptor desc = descriptor(d);
        List<BlockStage> stages = new ArrayList<>();
        Target target = null;
        try {
            dev.ublkgateway.core.stages.script.ScriptStageConfig script = null;
            for (ComponentSpec s : d.stages()) {
                if (s.config() instanceof dev.ublkgateway.core.stages.script.ScriptStageConfig sc) {
                    if (script != null) throw new IOException("device " + d.name() + " names more than one script; keep one");
                    script = sc; // the policy hook runs first, before every other stage; created below
                    continue;
                }
                StageProvider<Record> p = host.stage(s.type()).orElseThrow(() -> new IOException(
                        "device " + d.name() + ": stage type \"" + s.type() + "\" is not provided by any loaded plugin"));
                stages.add(p.create(s.config(), desc));
            }
            if (script != null) {
                stages.addFirst(dev.ublkgateway.core.stages.script.ScriptStageProvider.create(script, desc, List.copyOf(stages)));
            }
            TargetProvider<Record> tp = host.target(d.target().type()).orElseThrow(() -> new IOException(
                    "device " + d.name() + ": target type \"" + d.target().type() + "\" is not provided by any loaded plugin"));
            target = tp.open(d.target().config(), desc, recovering, new HostProviderContext(host, d.name(), forceTakeover, progress(d.name())));
            return new DeviceChain(stages, target);
        } catch (IOException | RuntimeException e) {
            new DeviceChain(stages, target == null ? new dev.ublkgateway.core.targets.NullTarget() : target).close();
            throw e;
        }
    }

    /** Short description for logs and `list`: "stats > file /srv/a.img (direct)". */
    public static String describe(DeviceConfig d) {
        StringBuilder sb = new StringBuilder();
        for (ComponentSpec s : d.stages()) sb.append(s.type()).append(" > ");
        Object config = d.target().config();
        if (config instanceof FileTargetConfig f) sb.append("file ").append(f.file()).append(f.direct() ? " (direct)" : "");
        else sb.append(d.target().type());
        return sb.toString();
    }
}
