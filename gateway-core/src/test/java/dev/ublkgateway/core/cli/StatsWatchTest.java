package dev.ublkgateway.core.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.ublkgateway.core.config.ConfigLoader;
import dev.ublkgateway.core.config.GatewayConfig;
import dev.ublkgateway.core.frontend.nbd.Tools;
import dev.ublkgateway.core.plugins.PluginHost;
import dev.ublkgateway.core.runtime.ChainFactory;
import dev.ublkgateway.core.runtime.DeviceState;
import dev.ublkgateway.core.runtime.Gateway;
import dev.ublkgateway.core.runtime.StateStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * `stats --watch --json` against a gateway serving a device over NBD: each interval shows only what
 * happened in it, and the watch ends with one line when the device goes away. The I/O runs while the
 * watch prints an interval, so which interval it lands in does not depend on timing.
 */
class StatsWatchTest {
    static final int SIZE = 4 << 20;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** Collects the lines printed and runs {@code onFirstLine} while the first one is printed. */
    static final class Lines extends OutputStream {
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        final Runnable onFirstLine;
        int lines;

        Lines(Runnable onFirstLine) {
            this.onFirstLine = onFirstLine;
        }

        @Override
        public void write(int b) {
            all.write(b);
            if (b == '\n' && ++lines == 1) onFirstLine.run();
        }

        String[] text() {
            return all.toString().split("\n");
        }
    }

    interface Action {
        void run() throws Exception;
    }

    static Runnable unchecked(Action a) {
        return () -> {
            try {
                a.run();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
    }

    @Test
    void eachIntervalShowsItsOwnRequestsAndTheWatchEndsWhenTheDeviceGoes() throws Exception {
        Tools.require("nbdcopy");
        Files.createDirectories(dir.resolve("plugins"));
        ChainFactory chains = new ChainFactory(PluginHost.load(dir.resolve("plugins")));
        Path sock = dir.resolve("nbd.sock");
        GatewayConfig config = ConfigLoader.parse("""
                devices:
                  - name: w0
                    size: 4MiB
                    frontend: nbd
                    nbd-listen: unix:%s
                    stages: [{type: stats}]
                    target: {type: memory}
                """.formatted(sock), "w.yaml", chains.componentTypes());
        StateStore states = new StateStore(dir.resolve("run"));
        Gateway gateway = new Gateway(states, chains);
        try {
            gateway.up(config);
            byte[] data = new byte[SIZE];
            new Random(11).nextBytes(data);
            Path in = dir.resolve("in.img");
            Files.write(in, data);
            String uri = "nbd+unix:///w0?socket=" + sock;
            Tools.ok("nbdcopy", in.toString(), uri);
            Tools.ok("nbdcopy", uri, dir.resolve("out.img").toString()); // reads what is written, skips holes
            awaitPublishedReads(states, SIZE);
            DeviceState w0 = states.find("w0").orElseThrow();
            assertEquals(SIZE, w0.sizeBytes());

            // two intervals: nothing happens in the first, nbdcopy writes the device again while it is shown
            Lines lines = new Lines(unchecked(() -> Tools.ok("nbdcopy", in.toString(), uri)));
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            StatsWatch watch = new StatsWatch(states, w0, 1000, 2, true, false, new PrintStream(lines, true),
                    new PrintStream(err, true));
            assertEquals(0, watch.run(), err.toString());
            String[] text = lines.text();
            assertEquals(2, text.length, lines.all.toString());
            JsonNode first = JSON.readTree(text[0]), second = JSON.readTree(text[1]);
            assertEquals("w0", first.get("device").asText());
            assertEquals(0, first.get("ops").get("read").get("requests").asLong(), "the I/O came before: " + text[0]);
            assertEquals(0, first.get("ops").get("write").get("requests").asLong(), "the I/O came before: " + text[0]);
            assertEquals(0.0, first.get("ops").get("read").get("latency_us").get("max").asDouble(), text[0]);
            JsonNode write = second.get("ops").get("write");
            assertEquals(SIZE, write.get("bytes").asLong(), text[1]);
            assertTrue(write.get("requests").asLong() >= 1, text[1]);
            assertTrue(second.get("interval_s").asDouble() > 0, text[1]);
            assertTrue(write.get("iops").asDouble() > 0 && write.get("mb_per_s").asDouble() > 0, text[1]);
            JsonNode lat = write.get("latency_us");
            assertTrue(lat.get("p50").asDouble() > 0, text[1]);
            assertTrue(lat.get("p50").asDouble() <= lat.get("p99").asDouble()
                    && lat.get("p99").asDouble() <= lat.get("max").asDouble(), text[1]);
            assertEquals(0, second.get("ops").get("read").get("requests").asLong(), text[1]);
            assertEquals("", err.toString());

            // the device goes down while the watch shows its first interval
            Lines more = new Lines(gateway::stopAll);
            ByteArrayOutputStream gone = new ByteArrayOutputStream();
            StatsWatch untilGone = new StatsWatch(states, w0, 1000, 0, true, false, new PrintStream(more, true),
                    new PrintStream(gone, true));
            assertEquals(StatsWatch.GONE, untilGone.run());
            assertEquals(1, more.text().length, more.all.toString());
            assertEquals("ublk-gateway: device w0 went away; stopped watching", gone.toString().strip());
        } finally {
            gateway.stopAll();
        }
    }

    /** Waits for the gateway (publishing once a second) to show all the reads made so far. */
    @SuppressWarnings("unchecked")
    private static void awaitPublishedReads(StateStore states, long bytes) throws InterruptedException {
        for (int i = 0; i < 600; i++) {
            var snap = states.loadStats("w0");
            if (snap.isPresent() && ((Map<String, Object>) snap.get().get("read")).get("bytes") instanceof Number n
                    && n.longValue() == bytes) {
                return;
            }
            Thread.sleep(100);
        }
        fail("the gateway never published the " + bytes + " bytes read: " + states.loadStats("w0") + " in " + states.dir());
    }
}
