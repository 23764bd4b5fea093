package dev.ublkgateway.core.targets;

import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetProvider;
import dev.ublkgateway.core.config.FileTargetConfig;
import dev.ublkgateway.core.config.MemoryTargetConfig;
import dev.ublkgateway.core.config.NullTargetConfig;
import org.pf4j.Extension;

import java.io.IOException;
import java.nio.file.Files;

/** The targets that ship with the gateway, registered through PF4J like any plugin's. */
public final class BuiltInTargets {
    private BuiltInTargets() {}

    @Extension
    public static final class Null implements TargetProvider<NullTargetConfig> {
        public String name() { return "null"; }
        public String description() { return "completes every request at once and stores nothing"; }
        public Class<NullTargetConfig> configType() { return NullTargetConfig.class; }
        public Target open(NullTargetConfig c, DeviceDescriptor d, boolean recovering) { return new NullTarget(); }
    }

    @Extension
    public static final class Memory implements TargetProvider<MemoryTargetConfig> {
        public String name() { return "memory"; }
        public String description() { return "RAM disk in a sparse shared-memory file; survives a gateway crash"; }
        public Class<MemoryTargetConfig> configType() { return MemoryTargetConfig.class; }
        public Target open(MemoryTargetConfig c, DeviceDescriptor d, boolean recovering) throws IOException {
            // a fresh start begins empty even if a crashed gateway left its file behind
            if (!recovering) Files.deleteIfExists(MemoryTarget.defaultFile(d.name()));
            return new MemoryTarget(MemoryTarget.defaultFile(d.name()), d.sizeBytes());
        }
    }

    @Extension
    public static final class File implements TargetProvider<FileTargetConfig> {
        public String name() { return "file"; }
        public String description() { return "a file or block device, I/O on the queue's own io_uring"; }
        public Class<FileTargetConfig> configType() { return FileTargetConfig.class; }
        public Target open(FileTargetConfig c, DeviceDescriptor d, boolean recovering) throws IOException {
            return new FileTarget(c.file(), d.sizeBytes(), c.direct(), c.useFsync(), c.create());
        }
    }
}
