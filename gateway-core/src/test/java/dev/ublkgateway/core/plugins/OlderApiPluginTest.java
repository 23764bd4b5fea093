package dev.ublkgateway.core.plugins;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.StageProvider;
import dev.ublkgateway.core.chain.DeviceChain;
import dev.ublkgateway.core.targets.NullTarget;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A plugin built for API 1.3 declares no capabilities: it still loads and gets the safe assumptions. */
class OlderApiPluginTest {
    @TempDir
    Path tmp;

    @Test
    void anApi13StageLoadsAndIsTakenToBeUnsafe() throws Exception {
        Map<String, byte[]> classes = TestPlugins.compile(tmp.resolve("old"), Map.of("old/OldStages.java", """
                package old;
                import dev.ublkgateway.api.*;
                @org.pf4j.Extension
                public class OldStages implements StageProvider<OldStages.Options> {
                    public record Options() {}
                    public String name() { return "old-pass"; }
                    public String description() { return "passes requests on, as written for API 1.3"; }
                    public Class<Options> configType() { return Options.class; }
                    public BlockStage create(Options o, DeviceDescriptor d) { return q -> (r, next) -> next.submit(r); }
                }
                """));
        Path dir = tmp.resolve("plugins");
        new PluginInstaller(dir).install(TestPlugins.jar(tmp.resolve("old.jar"),
                TestPlugins.manifest("old", "1.0.0", "1.3.0"), classes), false);
        try (PluginHost host = PluginHost.load(dir)) {
            assertTrue(host.problems().isEmpty(), host.problems().toString());
            StageProvider<Record> p = host.stage("old-pass").orElseThrow();
            Record options = p.configType().getDeclaredConstructor().newInstance();
            BlockStage stage = p.create(options, new DeviceDescriptor("d0", 1 << 20, 512, 1, 8, 1 << 20));
            assertEquals(Capabilities.UNDECLARED, stage.capabilities());
            DeviceChain chain = new DeviceChain(List.of(stage), new NullTarget());
            assertFalse(chain.capabilities().multiConnSafe(), "no multi-conn without a declaration");
            assertTrue(chain.capabilities().changesData(), "and it is taken to change data");
        }
    }
}
