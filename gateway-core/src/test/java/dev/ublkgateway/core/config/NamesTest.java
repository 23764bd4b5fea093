package dev.ublkgateway.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class NamesTest {

    @Test
    void kebabCase() {
        assertEquals("path", Names.kebab("path"));
        assertEquals("max-io-bytes", Names.kebab("maxIoBytes"));
        assertEquals("use-url-path", Names.kebab("useURLPath"));
        assertEquals("block2-size", Names.kebab("block2Size"));
    }

    @Test
    void suggestions() {
        List<String> keys = DeviceReader.KEYS;
        assertEquals("depth", Names.closest("depht", keys));
        assertEquals("block-size", Names.closest("blockSize", keys));
        assertEquals("block-size", Names.closest("block_size", keys));
        assertEquals("max-io-size", Names.closest("max-io-sise", keys));
        assertEquals("queues", Names.closest("queue", keys));
        assertEquals("file", Names.closest("fiel", List.of("file", "memory", "null")));
        assertNull(Names.closest("colour", keys));
        assertNull(Names.closest("x", List.of("file", "memory", "null")));
        assertEquals(1, Names.distance("depht", "depth"));
        assertEquals(3, Names.distance("kitten", "sitting"));
    }
}
