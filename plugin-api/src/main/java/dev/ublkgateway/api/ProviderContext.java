package dev.ublkgateway.api;

import java.io.IOException;

/**
 * What the gateway offers a provider while it opens a target for one device: the codecs and stores
 * that the target's {@link Nested} options name, built by whichever loaded plugin provides their type,
 * and the operator's choices that concern targets. (Since API 1.4.)
 */
public interface ProviderContext {
    /**
     * Opens the object store a nested {@code store:} option names; a type no loaded plugin provides,
     * a missing bucket or bad credentials fail here with a one-line message.
     */
    ObjectStore openStore(NestedSpec store) throws IOException;

    /** Creates the chunk codec a nested codec option names, for one volume whose metadata is known. */
    ChunkCodec createCodec(NestedSpec codec, DeviceDescriptor device, VolumeInfo volume) throws IOException;

    /**
     * True when the operator asked to take over volumes whose lease a gateway that is gone still
     * holds ({@code up --force-takeover}).
     */
    boolean forceTakeover();

    /**
     * Where the target publishes the progress of its long operations for this device. The default (a
     * gateway older than API 1.6) publishes nothing. Since API 1.6.
     */
    default ProgressReporter progress() {
        return ProgressReporter.NONE;
    }
}
