package dev.ublkgateway.core.config;

import dev.ublkgateway.api.NestedSpec;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.plugins.chunked.ChunkedTargetConfig;
import dev.ublkgateway.plugins.chunked.store.MemoryStoreConfig;
import dev.ublkgateway.core.runtime.ChainFactory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** A volume's codec list: compression must come before encryption, reported by validate with a position. */
class CodecOrderTest {
    record NoOptions() {}

    static ChunkCodecProvider<NoOptions> provider(String name, boolean compresses, boolean encrypts) {
        return new ChunkCodecProvider<>() {
            public String name() { return name; }
            public String description() { return name; }
            public Class<NoOptions> configType() { return NoOptions.class; }
            public ChunkCodec create(NoOptions c, DeviceDescriptor d) { throw new UnsupportedOperationException(); }
            public boolean compresses() { return compresses; }
            public boolean encrypts() { return encrypts; }
        };
    }

    static final Map<String, ChunkCodecProvider<NoOptions>> CODECS = Map.of(
            "squeeze", provider("squeeze", true, false),
            "seal", provider("seal", false, true),
            "plain", provider("plain", false, false));

    static final ComponentTypes TYPES = ComponentTypes.builtIn()
            .withTarget("chunked", ChunkedTargetConfig.class)
            .withStore("memory", MemoryStoreConfig.class)
            .withCodec("squeeze", NoOptions.class).withCodec("seal", NoOptions.class).withCodec("plain", NoOptions.class)
            .withCodecOrderingRule((a, b) -> ChainFactory.codecOrderProblem(CODECS.get(a), CODECS.get(b)));

    static String yaml(String codecs) {
        return """
                devices:
                  - name: v
                    size: 1GiB
                    target:
                      type: chunked
                      store: {type: memory}
                      codecs:
                """ + codecs;
    }

    @Test
    void compressionBeforeEncryptionBinds() {
        DeviceConfig d = ConfigLoader.parse(yaml("""
                        - type: squeeze
                        - type: plain
                        - type: seal
                """), "v.yaml", TYPES).devices().getFirst();
        ChunkedTargetConfig c = d.target().config(ChunkedTargetConfig.class);
        assertEquals(List.of("squeeze", "plain", "seal"), c.codecs().stream().map(NestedSpec::type).toList());
    }

    @Test
    void compressionAfterEncryptionIsRefusedAtTheLaterCodec() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml("""
                        - type: seal
                        - type: plain
                        - type: squeeze
                """), "v.yaml", TYPES));
        assertEquals(List.of("v.yaml:10:11: codec \"squeeze\" cannot come after \"seal\" in codecs (it compresses, "
                + "and the output of an encrypting codec does not compress: list compression first); reorder the codecs"),
                e.problems());
    }

    @Test
    void theBundledCodecsDeclareWhatTheyDo() {
        assertNull(ChainFactory.codecOrderProblem(CODECS.get("plain"), CODECS.get("squeeze")));
        assertNull(ChainFactory.codecOrderProblem(CODECS.get("seal"), CODECS.get("seal")));
        assertNotNull(ChainFactory.codecOrderProblem(CODECS.get("seal"), CODECS.get("squeeze")));
        assertNull(ChainFactory.codecOrderProblem(null, CODECS.get("squeeze")), "unknown codecs are reported elsewhere");
    }
}
