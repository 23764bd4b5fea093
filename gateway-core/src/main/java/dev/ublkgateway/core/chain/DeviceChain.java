package dev.ublkgateway.core.chain;

import dev.ublkgateway.api.BlockStage;
import dev.ublkgateway.api.Capabilities;
import dev.ublkgateway.api.ExtentSink;
import dev.ublkgateway.api.QueueContext;
import dev.ublkgateway.api.StageQueue;
import dev.ublkgateway.api.Target;
import dev.ublkgateway.api.TargetQueue;

import java.io.IOException;
import java.util.List;

/**
 * A device's stages and target, seen by the frontend as a single target whose capabilities are those of
 * all of them together (see {@link Capabilities#and}).
 */
public final class DeviceChain implements Target {
    private final List<BlockStage> stages;
    private final Target target;
    /** The stages' and the target's capabilities combined, asked once: they do not change while open. */
    private final Capabilities capabilities;
    /** Whether the target's holes show through every stage: none of them changes data. */
    private final boolean holesShow;

    public DeviceChain(List<BlockStage> stages, Target target) {
        this.stages = List.copyOf(stages);
        this.target = target;
        Capabilities ofStages = Capabilities.passThrough();
        for (BlockStage s : this.stages) ofStages = ofStages.and(s.capabilities());
        this.capabilities = ofStages.and(target.capabilities());
        this.holesShow = !ofStages.changesData();
    }

    public List<BlockStage> stages() {
        return stages;
    }

    /** The target at the end of the chain. */
    public Target target() {
        return target;
    }

    @Override
    public TargetQueue openQueue(QueueContext queue) throws IOException {
        TargetQueue t = target.openQueue(queue);
        if (stages.isEmpty()) return t; // no stages: nothing between the frontend and the target
        StageQueue[] qs = new StageQueue[stages.size()];
        for (int i = 0; i < qs.length; i++) qs[i] = stages.get(i).openQueue(queue);
        return new ChainQueue(qs, t, queue.depth());
    }

    @Override
    public Capabilities capabilities() {
        return capabilities;
    }

    /** A stage's own cache counts too: FLUSH must reach it. */
    @Override
    public boolean volatileCache() {
        return capabilities.volatileCache();
    }

    @Override
    public boolean supportsDiscard() {
        return target.supportsDiscard();
    }

    /**
     * Only a bare target may go without data, as before capabilities: what stages declare about data
     * ({@link Capabilities#data}) is not yet trusted to skip copying.
     */
    @Override
    public boolean needsData() {
        return !stages.isEmpty() || target.needsData();
    }

    /**
     * The target's extents when no stage may change data; otherwise all data. Conservative on purpose:
     * a hole reported through a cipher would let a client skip copying what reads as ciphertext.
     */
    @Override
    public int extents(long offset, long length, ExtentSink sink) {
        if (holesShow) return target.extents(offset, length, sink);
        sink.extent(length, 0);
        return 0;
    }

    /** The target alone changes size: stages map requests one to one and keep no size of their own. */
    @Override
    public void resize(long newSize, boolean allowShrink) throws IOException {
        target.resize(newSize, allowShrink);
    }

    /** Closes the stages first (they may still pass data down), then the target. */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (BlockStage s : stages) {
            try {
                s.close();
            } catch (IOException e) {
                if (first == null) first = e;
            }
        }
        try {
            target.close();
        } catch (IOException e) {
            if (first == null) first = e;
        }
        if (first != null) throw first;
    }
}
