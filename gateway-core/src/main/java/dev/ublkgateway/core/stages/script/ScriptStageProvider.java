package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.StageProvider;
import org.pf4j.Extension;

import java.io.IOException;
import java.util.List;

/**
 * The {@code script} stage: a JavaScript policy hook. The chain factory always puts it first and
 * hands it the device's other stages ({@link ScriptStage#ScriptStage}); created here on its own it
 * sees none of them.
 */
@Extension
public final class ScriptStageProvider implements StageProvider<ScriptStageConfig> {
    public static final String NAME = "script";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "JavaScript policy hook (GraalJS, sandboxed): allow, deny, delay or tag each request; onTick controls";
    }

    @Override
    public Class<ScriptStageConfig> configType() {
        return ScriptStageConfig.class;
    }

    @Override
    public BlockStage create(ScriptStageConfig config, DeviceDescriptor device) throws IOException {
        return create(config, device, List.of());
    }

    /** The hook for a device whose other stages are {@code others} (for its rate-limit and read-only controls). */
    public static ScriptStage create(ScriptStageConfig config, DeviceDescriptor device, List<BlockStage> others)
            throws IOException {
        return new ScriptStage(config.toScriptConfig(), device, others);
    }
}
