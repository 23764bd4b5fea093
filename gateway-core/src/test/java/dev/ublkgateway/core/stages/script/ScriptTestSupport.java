package dev.ublkgateway.core.stages.script;

import dev.ublkgateway.api.BlockRequest;
import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.TargetQueue;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Small fakes for driving a script stage without a device. */
final class ScriptTestSupport {
    static final DeviceDescriptor DEVICE = new DeviceDescriptor("dev0", 1L << 30, 4096, 1, 4, 1 << 20);

    private ScriptTestSupport() {}

    static QueueContext queue(int id) {
        return new QueueContext() {
            public int queueId() { return id; }
            public int depth() { return 4; }
            public int maxIoBytes() { return 1 << 20; }
        };
    }

    static BlockRequest request(int op, long offset, int length) {
        return new BlockRequest() {
            public int op() { return op; }
            public int flags() { return 0; }
            public long offset() { return offset; }
            public int length() { return length; }
            public MemorySegment buffer() { return MemorySegment.NULL; }
            public int queue() { return 0; }
            public int tag() { return 0; }
            public void complete(int result) {}
            public void resume() {}
        };
    }

    /** A target that answers every request with its length and counts what reached it. */
    static final class CountingTarget implements TargetQueue {
        int seen;

        @Override
        public int submit(BlockRequest r) {
            seen++;
            return r.length();
        }
    }

    static Path write(Path dir, String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    static ScriptStage stage(Path script, boolean failOpen, int timeoutMs, int tickMs, List<BlockStage> others)
            throws IOException {
        return new ScriptStage(new ScriptConfig(script, script.getFileName().toString(), failOpen, timeoutMs, tickMs, true),
                DEVICE, others);
    }

    static StageQueue open(ScriptStage s) throws IOException {
        return s.openQueue(queue(0));
    }
}
