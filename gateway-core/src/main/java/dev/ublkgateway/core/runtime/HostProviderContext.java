package dev.ublkgateway.core.runtime;

import dev.ublkgateway.api.ChunkCodec;
import dev.ublkgateway.api.ChunkCodecProvider;
import dev.ublkgateway.api.DeviceDescriptor;
import dev.ublkgateway.api.NestedSpec;
import dev.ublkgateway.api.ObjectStore;
import dev.ublkgateway.api.ObjectStoreProvider;
import dev.ublkgateway.api.ProgressReporter;
import dev.ublkgateway.api.ProviderContext;
import dev.ublkgateway.api.VolumeInfo;
import dev.ublkgateway.core.plugins.PluginHost;

import java.io.IOException;

/** What the gateway offers while it opens one device's target: the codecs and stores of the loaded plugins. */
final class HostProviderContext implements ProviderContext {
    private final PluginHost host;
    private final String device;
    private final boolean forceTakeover;
    private final ProgressReporter progress;

    HostProviderContext(PluginHost host, String device, boolean forceTakeover, ProgressReporter progress) {
        this.host = host;
        this.device = device;
        this.forceTakeover = forceTakeover;
        this.progress = progress;
    }

    @Override
    public ProgressReporter progress() {
        return progress;
    }

    @Override
    @SuppressWarnings("unchecked")
    public ObjectStore openStore(NestedSpec store) throws IOException {
        return ((ObjectStoreProvider<Record>) provider(store)).open(store.config());
    }

    @Override
    @SuppressWarnings("unchecked")
    public ChunkCodec createCodec(NestedSpec codec, DeviceDescriptor d, VolumeInfo volume) throws IOException {
        return ((ChunkCodecProvider<Record>) provider(codec)).create(codec.config(), d, volume);
    }

    private Object provider(NestedSpec spec) throws IOException {
        return host.find(spec.kind(), spec.type()).orElseThrow(() -> new IOException("device " + device + ": " + spec.kind()
                + " type \"" + spec.type() + "\" is not provided by any loaded plugin")).provider();
    }

    @Override
    public boolean forceTakeover() {
        return forceTakeover;
    }
}
