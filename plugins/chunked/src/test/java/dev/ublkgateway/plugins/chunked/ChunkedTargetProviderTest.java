package dev.ublkgateway.plugins.chunked;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.Size;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.VolumeInfo;
import dev.ublkgateway.plugins.chunked.store.MemoryStore;
import dev.ublkgateway.plugins.chunked.store.MemoryStoreConfig;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The provider gets its store, codecs and the takeover choice through the gateway's context, and nothing else. */
class ChunkedTargetProviderTest {
    static final DeviceDescriptor DEV = new DeviceDescriptor("vol", 1L << 20, 4096, 1, 32, 512 * 1024);
    record NoOptions() {}

    final MemoryStore store = new MemoryStore();
    final List<String> asked = new ArrayList<>();

    ProviderContext context(boolean forceTakeover) {
        return new ProviderContext() {
            public ObjectStore openStore(NestedSpec s) {
                asked.add("store " + s.type());
                return store;
            }

            public ChunkCodec createCodec(NestedSpec c, DeviceDescriptor d, VolumeInfo v) {
                asked.add("codec " + c.type() + " for " + d.name());
                return new ChunkedTargetTest.XorCodec((byte) 3);
            }

            public boolean forceTakeover() {
                return forceTakeover;
            }
        };
    }

    static ChunkedTargetConfig config() {
        return new ChunkedTargetConfig(Size.of(64 * Size.KiB), Size.of(Size.MiB), 1, 0, 0,
                List.of(new Spec("codec", "xor", new NoOptions(), 1, 1)),
                new Spec("store", "memory", new MemoryStoreConfig(null), 1, 1));
    }

    @Test
    void storeAndCodecsComeFromTheContext() throws Exception {
        try (Target t = new ChunkedTargetProvider().open(config(), DEV, false, context(false))) {
            assertTrue(store.keys().contains(VolumeMeta.KEY));
        }
        assertEquals(List.of("store memory", "codec xor for vol"), asked);
        assertTrue(new String(store.get(VolumeMeta.KEY).orElseThrow(), StandardCharsets.UTF_8).contains("codecs=xor\n"));
    }

    @Test
    void theContextDecidesAboutTakingOverAStaleLease() throws Exception {
        byte[] stale = ("owner=otherhost:42:abc\nheartbeat=" + (System.currentTimeMillis() - Lease.STALE_MS - 1000) + "\n")
                .getBytes(StandardCharsets.UTF_8);
        store.put(Lease.KEY, stale, 0, stale.length);
        IOException e = assertThrows(IOException.class, () -> new ChunkedTargetProvider().open(config(), DEV, false, context(false)));
        assertTrue(e.getMessage().endsWith("if it is dead, run up with --force-takeover"), e.getMessage());
        new ChunkedTargetProvider().open(config(), DEV, false, context(true)).close();
    }

    @Test
    void withoutAContextTheTargetSaysWhatItNeeds() {
        IOException e = assertThrows(IOException.class, () -> new ChunkedTargetProvider().open(config(), DEV, false));
        assertTrue(e.getMessage().startsWith("device vol: the chunked target needs a gateway that offers a provider context"),
                e.getMessage());
    }

    /** What the gateway's bound spec gives a target. */
    private record Spec(String kind, String type, Record config, int line, int column) implements NestedSpec {}
}
