package dev.ublkgateway.plugins.chunked;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The one chunk walk: pieces of a range, each within one chunk. */
class ChunkWalkTest {
    static List<String> pieces(ChunkWalk w) {
        List<String> l = new ArrayList<>();
        while (w.next()) l.add(w.index + ":" + w.pos + "+" + w.n + "@" + w.done + (w.whole() ? " whole" : ""));
        return l;
    }

    @Test
    void aRangeAcrossChunksIsCutAtTheirBoundaries() {
        ChunkWalk w = new ChunkWalk(100);
        assertEquals(List.of("0:50+50@0", "1:0+100@50 whole", "2:0+30@150"), pieces(w.over(50, 180)));
    }

    @Test
    void aRangeInsideOneChunkIsOnePiece() {
        assertEquals(List.of("3:10+20@0"), pieces(new ChunkWalk(100).over(310, 20)));
    }

    @Test
    void theWalkIsReusableAndAnEmptyRangeHasNoPieces() {
        ChunkWalk w = new ChunkWalk(100);
        assertEquals(List.of(), pieces(w.over(0, 0)));
        assertEquals(List.of("0:0+100@0 whole"), pieces(w.over(0, 100)));
        assertEquals(List.of("1:0+100@0 whole"), pieces(w.over(100, 100)), "a second range on the same walk");
    }

    @Test
    void rangesLongerThanAnIntWalk() {
        ChunkWalk w = new ChunkWalk(1 << 30).over(0, 5L << 30);
        int n = 0;
        long last = -1;
        while (w.next()) {
            n++;
            last = w.done;
        }
        assertEquals(5, n);
        assertEquals(4L << 30, last);
    }
}
