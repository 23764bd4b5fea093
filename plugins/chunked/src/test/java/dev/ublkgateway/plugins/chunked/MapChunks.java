package dev.ublkgateway.plugins.chunked;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** The bottom of a stack of layers in tests: chunks in a map, with a log of the calls that reached it. */
class MapChunks implements ChunkStore {
    final Map<Long, byte[]> chunks = new ConcurrentHashMap<>();
    final List<String> calls = new ArrayList<>();

    @Override
    public synchronized byte[] read(long index) {
        calls.add("read " + index);
        byte[] b = chunks.get(index);
        return b == null ? null : b.clone();
    }

    @Override
    public synchronized void write(long index, byte[] data, int length) {
        calls.add("write " + index + " " + length);
        chunks.put(index, Arrays.copyOf(data, length));
    }

    @Override
    public synchronized void delete(long index) {
        calls.add("delete " + index);
        chunks.remove(index);
    }
}
